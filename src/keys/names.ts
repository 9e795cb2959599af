/** `clientType` and scope names (SPEC §1): no blanks, at most 64 characters. */
export const NAME_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
