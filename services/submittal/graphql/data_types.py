"""GraphQL types of the typed HMBP data, generated from the domain's pydantic models.

Each is its own class (never the domain model itself); ``from_pydantic`` builds one from
domain data, and the input types' ``to_pydantic`` gives domain data back.
"""

from __future__ import annotations

import strawberry
from strawberry.experimental.pydantic import input as pyd_input
from strawberry.experimental.pydantic import type as pyd_type

from services.submittal.domain import documents, facility_info, geo, hmi, plans
from services.submittal.domain.elements import ElementType, SubmittalStatus

ElementTypeEnum = strawberry.enum(ElementType, name="ElementType")
SubmittalStatusEnum = strawberry.enum(SubmittalStatus, name="SubmittalStatus")


@pyd_type(model=documents.DocumentSlot, all_fields=True, name="DocumentSlot")
class DocumentSlot:
    pass


@pyd_type(model=hmi.Component, all_fields=True, name="HazardousComponent")
class HazardousComponent:
    pass


@pyd_type(model=hmi.HazardousMaterial, all_fields=True, name="HazardousMaterial")
class HazardousMaterial:
    withheld: list[str] = strawberry.field(
        default_factory=list,
        description="Fields withheld from this reader: trade-secret identity or a confidential "
        "location (statewide readers).",
    )


@pyd_type(model=plans.EmergencyPlans, all_fields=True, name="EmergencyPlans")
class EmergencyPlans:
    pass


@pyd_type(model=facility_info.Address, all_fields=True, name="ReportedAddress")
class ReportedAddress:
    pass


@pyd_type(model=facility_info.Contact, all_fields=True, name="ReportedContact")
class ReportedContact:
    pass


@pyd_type(model=facility_info.Signer, all_fields=True, name="Signer")
class Signer:
    pass


@pyd_type(model=facility_info.BusinessActivities, all_fields=True, name="BusinessActivities")
class BusinessActivities:
    pass


@pyd_type(model=facility_info.OwnerOperator, all_fields=True, name="OwnerOperatorIdentification")
class OwnerOperatorIdentification:
    pass


@pyd_type(model=geo.GeographicLocation, all_fields=True, name="GeographicLocation",
          description="Where the facility is: decimal degrees (CERS 21.0001-21.0007).")
class GeographicLocation:
    pass


@pyd_type(model=facility_info.FacilityInformation, all_fields=True, name="FacilityInformation")
class FacilityInformation:
    pass


@pyd_input(model=documents.DocumentSlot, all_fields=True, name="DocumentSlotInput")
class DocumentSlotInput:
    pass


@pyd_input(model=hmi.Component, all_fields=True, name="HazardousComponentInput")
class HazardousComponentInput:
    pass


@pyd_input(model=hmi.HazardousMaterial, all_fields=True, name="HazardousMaterialInput")
class HazardousMaterialInput:
    pass


@pyd_input(model=hmi.HazardousMaterialsInventory, all_fields=True,
           name="HazardousMaterialsInventoryInput")
class HazardousMaterialsInventoryInput:
    pass


@pyd_input(model=plans.EmergencyPlans, all_fields=True, name="EmergencyPlansInput")
class EmergencyPlansInput:
    pass


@pyd_input(model=facility_info.Address, all_fields=True, name="ReportedAddressInput")
class ReportedAddressInput:
    pass


@pyd_input(model=facility_info.Contact, all_fields=True, name="ReportedContactInput")
class ReportedContactInput:
    pass


@pyd_input(model=facility_info.Signer, all_fields=True, name="SignerInput")
class SignerInput:
    pass


@pyd_input(model=facility_info.BusinessActivities, all_fields=True,
           name="BusinessActivitiesInput")
class BusinessActivitiesInput:
    pass


@pyd_input(model=facility_info.OwnerOperator, all_fields=True,
           name="OwnerOperatorIdentificationInput")
class OwnerOperatorIdentificationInput:
    pass


@pyd_input(model=geo.GeographicLocation, all_fields=True, name="GeographicLocationInput")
class GeographicLocationInput:
    pass


@pyd_input(model=facility_info.FacilityInformation, all_fields=True,
           name="FacilityInformationInput")
class FacilityInformationInput:
    pass
