// Package federation is Pecan's ActivityPub: WebFinger and NodeInfo,
// fetching and caching remote actors, HTTP Signatures on everything sent
// and received, the inbox that turns remote activities into local posts,
// follows, reposts and bookmarks (through the same processors the API
// uses), and the event sink that turns local changes into activities on
// the delivery queue. Documents are rendered by app/convert.
package federation
