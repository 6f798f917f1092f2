package database

import (
	"slices"
	"sync"

	"github.com/pecan-social/pecan/models"
)

// Stream pages are mostly posts read a moment ago by someone else, and
// decoding their entities' JSON again was a twentieth of a page's CPU and
// an eighth of the bytes it allocated. So pages keep recently decoded
// entities by their stored JSON, which is all they are made from.
//
// Entities handed out from here share their slices with every other reader
// of the same JSON: they are read-only. The slices are clipped, so that an
// append copies rather than writing into what others hold.

const (
	maxMemoizedEntities     = 10_000 // past it the memo starts over
	maxMemoizedEntitiesJSON = 4 << 10
)

type entitiesMemo struct {
	mu      sync.RWMutex
	entries map[string]models.Entities
}

var decodedEntities = &entitiesMemo{entries: map[string]models.Entities{}}

// decode returns the entities stored as src (text or bytes, as the drivers
// give them).
func (m *entitiesMemo) decode(src any) (models.Entities, error) {
	switch v := src.(type) {
	case string:
		if e, ok := m.get(v); ok {
			return e, nil
		}
		return m.remember(v)
	case []byte:
		// Indexed here, not through get, so that string(v) makes no copy.
		m.mu.RLock()
		e, ok := m.entries[string(v)]
		m.mu.RUnlock()
		if ok {
			return e, nil
		}
		return m.remember(string(v))
	default:
		var e models.Entities
		return e, e.Scan(src)
	}
}

func (m *entitiesMemo) get(key string) (models.Entities, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.entries[key]
	return e, ok
}

// remember decodes entities the memo does not hold, and keeps them unless
// their JSON is too long.
func (m *entitiesMemo) remember(key string) (models.Entities, error) {
	var e models.Entities
	if err := e.Scan(key); err != nil {
		return e, err
	}
	e.Links, e.Mentions, e.Tags = slices.Clip(e.Links), slices.Clip(e.Mentions), slices.Clip(e.Tags)
	if len(key) <= maxMemoizedEntitiesJSON {
		m.put(key, e)
	}
	return e, nil
}

func (m *entitiesMemo) put(key string, e models.Entities) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.entries) >= maxMemoizedEntities {
		m.entries = make(map[string]models.Entities, maxMemoizedEntities)
	}
	m.entries[key] = e
}

// entitiesCol reads a post's entities through the memo.
type entitiesCol struct{ dst *models.Entities }

func (c entitiesCol) Scan(src any) error {
	e, err := decodedEntities.decode(src)
	*c.dst = e
	return err
}
