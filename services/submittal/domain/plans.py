"""Emergency Response and Training Plans (SE 3): two required plans, each a document slot."""

from __future__ import annotations

from services.submittal.domain.documents import DocumentSlot, check_slot
from services.submittal.domain.issues import Checker
from services.submittal.domain.model import Model


class EmergencyPlans(Model):
    emergency_response_plan: DocumentSlot | None = None
    employee_training_plan: DocumentSlot | None = None
    owner_statement_of_compliance: DocumentSlot | None = None
    locally_required: DocumentSlot | None = None


def check_plans(check: Checker, plans: EmergencyPlans) -> None:
    check_slot(check.at("emergencyResponsePlan"), plans.emergency_response_plan,
               "Emergency response plan", required=True)
    check_slot(check.at("employeeTrainingPlan"), plans.employee_training_plan,
               "Employee training plan", required=True)
    check_slot(check.at("ownerStatementOfCompliance"), plans.owner_statement_of_compliance,
               "Owner statement of compliance", required=False)
    check_slot(check.at("locallyRequired"), plans.locally_required, "Locally required document",
               required=False)
