// Package events carries what the processors do to whoever must hear of it
// (webhooks now, federation and crossposts next), inside the transaction
// that did it: a sink enqueues its deliveries in that same transaction, so
// a change and the news of it land together or not at all.
package events

import (
	"context"

	"github.com/pecan-social/pecan/app/database"
	"github.com/pecan-social/pecan/models"
)

// Sink hears events. Emit runs inside the caller's transaction and must
// write through q only; an error rolls the whole change back.
type Sink interface {
	Emit(ctx context.Context, q database.Queries, e models.Event) error
}

// Sinks hands each event to every sink in turn.
type Sinks []Sink

// Emit passes e to each sink, stopping at the first error.
func (s Sinks) Emit(ctx context.Context, q database.Queries, e models.Event) error {
	for _, sink := range s {
		if err := sink.Emit(ctx, q, e); err != nil {
			return err
		}
	}
	return nil
}

// BatchSink is a sink that hears the several events of one change at once
// and saves work doing so (one lookup of who listens, not one per event).
type BatchSink interface {
	EmitAll(ctx context.Context, q database.Queries, events []models.Event) error
}

// EmitAll passes the events of one change to every sink, all at once to
// those that take them so, stopping at the first error.
func (s Sinks) EmitAll(ctx context.Context, q database.Queries, events []models.Event) error {
	for _, sink := range s {
		if err := EmitAll(ctx, sink, q, events); err != nil {
			return err
		}
	}
	return nil
}

// EmitAll hands the events of one change to sink: at once if it takes
// them so, else one by one.
func EmitAll(ctx context.Context, sink Sink, q database.Queries, events []models.Event) error {
	if batch, ok := sink.(BatchSink); ok {
		return batch.EmitAll(ctx, q, events)
	}
	for _, e := range events {
		if err := sink.Emit(ctx, q, e); err != nil {
			return err
		}
	}
	return nil
}

// QuietSink is a sink that can tell, before a change is stored, that it
// would write nothing for an event if the statement storing the change's
// post found no one listening (models.Listeners all false). A change every
// sink is quiet about may then be stored in one statement, without its
// events and without a transaction.
type QuietSink interface {
	QuietIfUnheard(e models.Event) bool
}

// QuietIfUnheard reports whether sink would write nothing for any of the
// events of one change if no one listens. A sink that cannot tell is not
// quiet.
func QuietIfUnheard(sink Sink, events []models.Event) bool {
	for _, e := range events {
		if !quietAbout(sink, e) {
			return false
		}
	}
	return true
}

// QuietIfUnheard reports whether every sink is quiet about e.
func (s Sinks) QuietIfUnheard(e models.Event) bool {
	for _, sink := range s {
		if !quietAbout(sink, e) {
			return false
		}
	}
	return true
}

func quietAbout(sink Sink, e models.Event) bool {
	quiet, ok := sink.(QuietSink)
	return ok && quiet.QuietIfUnheard(e)
}
