import { Type } from 'typebox';

// Any JSON object reaches validateFeed, which lists every problem at once (422 invalid_feed).
export const FeedBody = Type.Object({}, { additionalProperties: true });
