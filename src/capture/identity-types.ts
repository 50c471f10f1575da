/** The shapes of a request's identity (capture/identity.ts sets it; wire/serialize.ts sends it). */

/** An attribute value: what OpenTelemetry keeps typed and Pub/Sub tags carry as text. */
export type AttributeValue = string | number | boolean;

/** The user making the request (`setUser`). At least one of the three. */
export interface UserIdentity {
  id?: string;
  email?: string;
  /** The display name (OTLP attribute `user.full_name`). */
  name?: string;
}

/** The customer account (organization, workspace) the request is made for (`setTenant`). */
export interface TenantIdentity {
  id?: string;
  name?: string;
}

/**
 * A request's identity as the setters left it (user fields under their attribute names: `id`,
 * `email`, `full_name`). Sent as `user.*`, `tenant.*`, `session.id`, then each attribute key.
 */
export interface Identity {
  readonly user?: Readonly<Record<string, string>>;
  readonly tenant?: Readonly<Record<string, string>>;
  readonly session?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}
