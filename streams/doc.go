// Package streams will hold Pecan's stream queries (global, personal,
// unified, mentions, user, tag, thread, bookmarks), pnut pagination and
// stream markers. It is empty until posts exist.
package streams
