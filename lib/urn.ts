/** `urn:pulumi:<stack>::<project>::<parent$type>::<name>` → its parts (the name may itself contain "::"). */
export function parseUrn(urn: string): { stack: string; project: string; type: string; name: string } | undefined {
  const m = /^urn:pulumi:(.*?)::(.*?)::(.*?)::(.*)$/s.exec(urn);
  if (!m) return undefined;
  const qualified = m[3].split("$");
  return { stack: m[1], project: m[2], type: qualified[qualified.length - 1], name: m[4] };
}
