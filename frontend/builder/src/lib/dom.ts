// Small DOM helpers shared by the builder's keyboard handling.

/** Whether a key press or clipboard event belongs to a field the user is typing in. */
export function isEditable(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return Boolean(element && (element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName)));
}

/** Keyboard users continue on a new node: focused once React Flow has measured and shown it. */
export function focusNode(id: string, frames = 30): void {
  requestAnimationFrame(() => {
    const element = document.querySelector<HTMLElement>(`.react-flow__node[data-id="${id}"]`);
    element?.focus();
    if (document.activeElement !== element && frames > 0) focusNode(id, frames - 1);
  });
}
