/**
 * The one feature definition shared by training and serving, in two parts:
 * - `features-state.ts`: the per-card and per-merchant aggregates (time buckets and bounded
 *   recency lists) and the pure fold {@link applyEvent} that moves them forward;
 * - `features-vector.ts`: the model's inputs ({@link FEATURES}) and {@link featureVector},
 *   which reads them from that state for one request.
 *
 * Online state is kept per card and per merchant, so velocity features are computed at read
 * time from one item. Training replays the simulated event stream through
 * {@link applyEvent} and asks {@link featureVector} for each authorization *before* applying
 * it; serving reads the same state from DynamoDB and calls the same {@link featureVector}.
 * Nothing here touches AWS, the clock or the environment.
 */
export * from './features-state';
export * from './features-vector';
