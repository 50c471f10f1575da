/** The wire format's redaction marker, for a header value or a JSON body value. */
export const REDACTED = "[CLIENT_REDACTED]";
