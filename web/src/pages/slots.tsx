import { useState } from "react";
import { explain, uploadDocument } from "../api";
import { ELEMENT_NAMES, ELEMENT_TYPES } from "../ui";

export interface Slot {
  option?: string | null; documentIds?: string[]; comment?: string | null; providedOn?: string | null;
  otherElement?: string | null; url?: string | null;
}

const OPTIONS: [string, string][] = [
  ["ATTACHED", "Attach a document"], ["EXEMPT", "Exempt"], ["PROVIDED_TO_REGULATOR", "Provided to the regulator"],
  ["STORED_AT_FACILITY", "Stored at the facility"], ["PROVIDED_IN_OTHER_ELEMENT", "Provided in another element"],
  ["PUBLIC_URL", "Public web address"],
];

/** How a slot is provided, in words (the read-only and printed views). */
export function slotText(slot: Slot | null | undefined): string {
  if (!slot?.option) return "Not provided";
  let text = OPTIONS.find(([o]) => o === slot.option)?.[1] ?? slot.option;
  if (slot.documentIds?.length) text += ` (${slot.documentIds.length} document${slot.documentIds.length > 1 ? "s" : ""})`;
  if (slot.providedOn) text += ` on ${slot.providedOn}`;
  if (slot.otherElement) text += `: ${ELEMENT_NAMES[slot.otherElement] ?? slot.otherElement}`;
  if (slot.url) text += `: ${slot.url}`;
  if (slot.comment) text += ` · ${slot.comment}`;
  return text;
}

/** One document slot (site map, emergency response plan, ...); uploads go to /documents. */
export function SlotEditor({ id, label, slot, facilityId, onChange, readOnly, errors }: {
  id: string; label: string; slot: Slot | null | undefined; facilityId: string; onChange: (s: Slot) => void;
  readOnly: boolean; errors: string[];
}) {
  const value: Slot = slot ?? {};
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const set = (patch: Slot) => onChange({ ...value, ...patch });
  const upload = async (file: File | undefined) => {
    if (!file) return;
    setBusy(true);
    setProblem(null);
    try {
      const documentId = await uploadDocument(facilityId, file);
      set({ option: "ATTACHED", documentIds: [...(value.documentIds ?? []), documentId] });
    } catch (e) {
      setProblem(explain(e));
    } finally {
      setBusy(false);
    }
  };
  if (readOnly) {
    return (
      <div className="slot">
        <h3>{label}</h3>
        <p>{OPTIONS.find(([o]) => o === value.option)?.[1] ?? "Not provided"}
          {value.documentIds?.map((d, i) => <span key={d}> · <a href={`/documents/${d}`}>document {i + 1}</a></span>)}
          {value.comment ? ` · ${value.comment}` : ""}{value.url ? ` · ${value.url}` : ""}</p>
      </div>
    );
  }
  return (
    <fieldset className="slot">
      <legend>{label}</legend>
      {errors.length ? <p id={`${id}-err`} className="field-error" role="alert">{errors.join(" ")}</p> : null}
      <div className="field">
        <label htmlFor={`${id}-option`}>How is it provided?</label>
        <select id={`${id}-option`} value={value.option ?? ""} onChange={(e) => set({ option: e.target.value || null })}
          aria-invalid={errors.length ? true : undefined} aria-describedby={errors.length ? `${id}-err` : undefined}>
          <option value="">Choose…</option>
          {OPTIONS.map(([o, text]) => <option key={o} value={o}>{text}</option>)}
        </select>
      </div>
      {value.option === "ATTACHED" || !value.option ? (
        <div className="field">
          <label htmlFor={`${id}-file`}>Upload a document (PDF or image)</label>
          <input id={`${id}-file`} type="file" accept=".pdf,.png,.jpg,.jpeg,.gif,.tif,.tiff" disabled={busy}
            onChange={(e) => void upload(e.target.files?.[0])} />
          {busy ? <p role="status">Uploading…</p> : null}
          {problem ? <p className="field-error" role="alert">{problem}</p> : null}
          {value.documentIds?.length ? <p>{value.documentIds.length} document{value.documentIds.length > 1 ? "s" : ""} attached
            {" "}(<button type="button" className="link" onClick={() => set({ documentIds: [] })}>remove</button>)</p> : null}
        </div>
      ) : null}
      {value.option === "PROVIDED_TO_REGULATOR" ? (
        <div className="field"><label htmlFor={`${id}-on`}>Provided on</label>
          <input id={`${id}-on`} type="date" value={value.providedOn ?? ""} onChange={(e) => set({ providedOn: e.target.value || null })} /></div>
      ) : null}
      {value.option === "PROVIDED_IN_OTHER_ELEMENT" ? (
        <div className="field"><label htmlFor={`${id}-other`}>Which element</label>
          <select id={`${id}-other`} value={value.otherElement ?? ""} onChange={(e) => set({ otherElement: e.target.value || null })}>
            <option value="">Choose…</option>
            {ELEMENT_TYPES.map((t) => <option key={t} value={t}>{ELEMENT_NAMES[t]}</option>)}
          </select></div>
      ) : null}
      {value.option === "PUBLIC_URL" ? (
        <div className="field"><label htmlFor={`${id}-url`}>Web address</label>
          <input id={`${id}-url`} type="url" value={value.url ?? ""} onChange={(e) => set({ url: e.target.value || null })} /></div>
      ) : null}
      {value.option && value.option !== "PUBLIC_URL" ? (
        <div className="field"><label htmlFor={`${id}-comment`}>Comment{value.option === "EXEMPT" ? " (why it is exempt)" : ""}</label>
          <input id={`${id}-comment`} value={value.comment ?? ""} maxLength={500} onChange={(e) => set({ comment: e.target.value || null })} /></div>
      ) : null}
    </fieldset>
  );
}
