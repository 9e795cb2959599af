// negotiator (Apollo's own choice of media type, used here to answer as Apollo would) ships no types.
declare module "negotiator" {
  export default class Negotiator {
    constructor(request: { headers: Record<string, string | string[] | undefined> });
    mediaType(available?: string[]): string | undefined;
  }
}
