/** Structural axios types: the SDK never depends on axios itself. */

/* eslint-disable @typescript-eslint/no-explicit-any -- structural match of axios's own interceptor types */
/** An axios interceptor callback. */
export type AxiosInterceptorFn = (value: any) => any;
/* eslint-enable @typescript-eslint/no-explicit-any */
/** axios's interceptor list (`instance.interceptors.request` / `.response`). */
export interface InterceptorManager {
  use(onFulfilled?: AxiosInterceptorFn | null, onRejected?: AxiosInterceptorFn | null): number;
}
/** The part of an axios instance (the default `axios` or `axios.create()`) the SDK uses. */
export interface AxiosInstanceLike {
  interceptors: { request: InterceptorManager; response: InterceptorManager };
  getUri?(config?: object): string;
  defaults?: { adapter?: unknown };
}
