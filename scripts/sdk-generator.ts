export async function generateSdk(_spec: Record<string, unknown>): Promise<Record<string, string>> {
  return {};
}
