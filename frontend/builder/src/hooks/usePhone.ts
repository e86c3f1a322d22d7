import { useEffect, useState } from "react";

const PHONE = "(max-width: 599px)";

/** A phone shows the agent read-only (SPEC §14): too small to edit a graph on. */
export function usePhone(): boolean {
  const [phone, setPhone] = useState(() => window.matchMedia(PHONE).matches);
  useEffect(() => {
    const query = window.matchMedia(PHONE);
    const changed = () => setPhone(query.matches);
    query.addEventListener("change", changed);
    return () => query.removeEventListener("change", changed);
  }, []);
  return phone;
}
