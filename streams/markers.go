package streams

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/pecan-social/pecan/app/errs"
	"github.com/pecan-social/pecan/models"
)

// Marker names pnut defines; channel markers carry the channel's id.
const (
	MarkerGlobal   = "global"
	MarkerPersonal = "personal"
	MarkerMentions = "mentions"
)

var channelMarker = regexp.MustCompile(`^channel:[1-9][0-9]{0,18}$`)

// ValidMarkerName reports whether name is a stream marker pnut knows.
func ValidMarkerName(name string) bool {
	switch name {
	case MarkerGlobal, MarkerPersonal, MarkerMentions:
		return true
	}
	return channelMarker.MatchString(name)
}

// MarkerUpdate moves one marker. ExpectVersion, when set, makes the update
// conditional on the marker still being at that version (0: not yet set).
type MarkerUpdate struct {
	Name          string
	ID            int64
	Percentage    int
	ExpectVersion *int64
	ResetReadID   bool
}

// ErrMarkerConflict means the marker moved on since the client read it.
var ErrMarkerConflict = errors.New("marker version is stale")

// MarkerStore keeps stream markers. Each update is one atomic step: id is
// set, last_read_id only rises (unless reset), version rises by one.
type MarkerStore interface {
	Update(ctx context.Context, userID int64, u MarkerUpdate, now time.Time) (models.Marker, error)
	Get(ctx context.Context, userID int64, name string) (models.Marker, bool, error)
	All(ctx context.Context, userID int64) ([]models.Marker, error)
}

// Markers applies the marker rules in front of a store.
type Markers struct {
	store MarkerStore
	now   func() time.Time
}

// NewMarkers returns the marker processor.
func NewMarkers(store MarkerStore, now func() time.Time) *Markers {
	return &Markers{store: store, now: now}
}

// MaxMarkersPerRequest is pnut's limit on one POST /markers.
const MaxMarkersPerRequest = 10

// Update applies each update in turn; each is atomic on its own. A stale
// version stops the batch with 409 marker_conflict.
func (m *Markers) Update(ctx context.Context, userID int64, updates []MarkerUpdate) ([]models.Marker, error) {
	if len(updates) == 0 || len(updates) > MaxMarkersPerRequest {
		return nil, errs.Invalid("markers", "invalid_markers", "send 1 to %d markers", MaxMarkersPerRequest)
	}
	for _, u := range updates {
		if !ValidMarkerName(u.Name) {
			return nil, errs.Invalid("name", "invalid_marker_name", "%q is not a marker name: use global, personal, mentions or channel:{id}", u.Name)
		}
		if u.ID <= 0 {
			return nil, errs.Invalid("id", "invalid_marker_id", "id must be a positive post id")
		}
		if u.Percentage < 0 || u.Percentage > 100 {
			return nil, errs.Invalid("percentage", "invalid_percentage", "percentage must be 0 to 100")
		}
	}
	out := make([]models.Marker, 0, len(updates))
	now := m.now().UTC().Truncate(time.Second)
	for _, u := range updates {
		marker, err := m.store.Update(ctx, userID, u, now)
		if errors.Is(err, ErrMarkerConflict) {
			return nil, errs.Conflict("version", "marker_conflict", "marker %s has moved on since version %d; read it again", u.Name, *u.ExpectVersion)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, marker)
	}
	return out, nil
}

// Get returns one marker, if set.
func (m *Markers) Get(ctx context.Context, userID int64, name string) (models.Marker, bool, error) {
	return m.store.Get(ctx, userID, name)
}

// All returns every marker of the user.
func (m *Markers) All(ctx context.Context, userID int64) ([]models.Marker, error) {
	return m.store.All(ctx, userID)
}
