package migrations

// The public home page lists this instance's own recent posts: a partial
// index of local posts in the global stream lets a page read count rows
// instead of walking past every remote post the instance has copied.
func init() {
	All.MustRegister(run(same(
		`CREATE INDEX posts_local_idx ON posts (id) WHERE in_global AND ap_id IS NULL`,
	)), run(same(
		`DROP INDEX posts_local_idx`,
	)))
}
