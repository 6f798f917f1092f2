package posts

import "sync"

// boundedMap is a map safe for concurrent use that forgets everything when
// it grows past max entries: what it holds can always be found again, so
// losing it costs only time.
type boundedMap[K comparable, V any] struct {
	max int
	mu  sync.Mutex
	m   map[K]V
}

func (b *boundedMap[K, V]) get(k K) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

func (b *boundedMap[K, V]) has(k K) bool {
	_, ok := b.get(k)
	return ok
}

func (b *boundedMap[K, V]) put(k K, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil || len(b.m) >= b.max {
		b.m = make(map[K]V)
	}
	b.m[k] = v
}

func (b *boundedMap[K, V]) delete(k K) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, k)
}
