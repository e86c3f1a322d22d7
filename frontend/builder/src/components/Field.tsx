// One input pin's control, generated from its JSON Schema (lib/form.ts decides which).
import { useEffect, useId, useState } from "react";
import type { FieldSpec } from "../lib/form";
import { fieldText, parseField } from "../lib/form";

interface Props {
  field: FieldSpec;
  value: unknown;
  error?: string;
  readOnly: boolean;
  onChange(value: unknown): void;
}

export function Field({ field, value, error, readOnly, onChange }: Props) {
  const id = useId();
  // A secret is never put back into the page: its field starts empty and says whether one is set.
  const secret = field.kind === "password";
  const [text, setText] = useState(() => (secret ? "" : fieldText(field, value)));
  const [problem, setProblem] = useState<string | null>(null);
  // A value changed from outside (undo, paste, load) replaces what the field shows.
  useEffect(() => {
    if (secret) return;
    const parsed = parseField(field, text);
    const same = parsed.ok && JSON.stringify(parsed.value) === JSON.stringify(value);
    if (!same) {
      setText(fieldText(field, value));
      setProblem(null);
    }
    // Only a new value from outside matters here, not each keystroke.
  }, [value]);

  const commit = (next: string) => {
    setText(next);
    const parsed = parseField(field, next);
    if (parsed.ok) {
      setProblem(null);
      onChange(parsed.value);
    } else {
      setProblem(parsed.error);
    }
  };

  const shownError = problem ?? error;
  const describedBy = shownError ? `${id}-error` : undefined;
  const common = {
    id,
    name: field.name,
    disabled: readOnly,
    "aria-invalid": shownError ? true : undefined,
    "aria-describedby": describedBy,
    className: "nodrag field-control",
  };
  let control;
  switch (field.kind) {
    case "switch":
      control = (
        <input {...common} type="checkbox" role="switch" checked={value === true}
          onChange={(event) => onChange(event.target.checked)} />
      );
      break;
    case "select":
      control = (
        <select {...common} value={value === undefined || value === null ? "" : JSON.stringify(value)}
          onChange={(event) => onChange(event.target.value === "" ? undefined : JSON.parse(event.target.value))}>
          <option value="">{field.required ? "— choose —" : "(default)"}</option>
          {field.choices.map((choice) => (
            <option key={JSON.stringify(choice.value)} value={JSON.stringify(choice.value)}>{choice.label}</option>
          ))}
        </select>
      );
      break;
    case "textarea":
    case "json":
    case "any":
      control = (
        <textarea {...common} rows={field.kind === "json" ? 3 : 2} value={text} placeholder={field.placeholder}
          spellCheck={field.kind !== "json"} onChange={(event) => commit(event.target.value)} />
      );
      break;
    case "password":
      control = (
        <input {...common} type="password" autoComplete="new-password" value={text}
          placeholder={value ? "•••• set" : field.placeholder} onChange={(event) => commit(event.target.value)} />
      );
      break;
    default:
      control = (
        <>
          <input {...common} type={field.kind === "number" || field.kind === "integer" ? "number" : "text"}
            step={field.kind === "integer" ? 1 : "any"} value={text} placeholder={field.placeholder}
            list={field.suggestions.length ? `${id}-options` : undefined}
            onChange={(event) => commit(event.target.value)} />
          {field.suggestions.length > 0 && (
            <datalist id={`${id}-options`}>
              {field.suggestions.map((option) => <option key={String(option.value)} value={String(option.value)}>{option.label}</option>)}
            </datalist>
          )}
        </>
      );
  }
  return (
    <div className={`field field-${field.kind}`} data-field={field.name}>
      <label htmlFor={id} className="field-label" title={field.description}>
        {field.label}
        {field.required && <span className="required" aria-label="required">*</span>}
      </label>
      {control}
      {shownError && <p id={describedBy} className="field-error" role="alert">{shownError}</p>}
    </div>
  );
}
