package client

// Crosspost targets (/v1/crosspost/targets) belong in this file when the
// server offers them: methods to register, list and delete targets, in the
// shape of webhooks.go, and NewPost fields for crosspost and crosspost_all.
