package database

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/pecan-social/pecan/models"
)

func entitiesJSON(t *testing.T, e models.Entities) string {
	t.Helper()
	v, err := e.Value()
	if err != nil {
		t.Fatal(err)
	}
	return v.(string)
}

// TestMemoizedEntitiesAreWhatWasStored: text (pgx) or bytes (SQLite), the
// first read or a remembered one, many readers at once: each gets the
// entities that were stored, and one reader's append is not another's.
func TestMemoizedEntitiesAreWhatWasStored(t *testing.T) {
	memo := &entitiesMemo{entries: map[string]models.Entities{}}
	stored := make([]models.Entities, 50)
	for i := range stored {
		stored[i] = models.Entities{
			Links:    []models.Link{{URL: fmt.Sprintf("https://example.com/%d", i), Text: "example.com", Pos: i, Len: 11}},
			Mentions: []models.Mention{{ID: fmt.Sprint(i), Text: "bob", Pos: 20, Len: 4}},
			Tags:     []models.Tag{},
		}
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				want := stored[(g*7+j)%len(stored)]
				var src any = entitiesJSON(t, want)
				if j%2 == 1 {
					src = []byte(src.(string))
				}
				got, err := memo.decode(src)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("decoded %+v (%v), want %+v", got, err, want)
					return
				}
				got.Tags = append(got.Tags, models.Tag{Text: "mine", Pos: 0, Len: 5})
				got.Links = append(got.Links, models.Link{URL: "https://elsewhere.example"})
			}
		}()
	}
	wg.Wait()
}

// TestEntitiesMemoStaysBounded: past its bound the memo starts over, and
// a very long JSON is decoded but not kept.
func TestEntitiesMemoStaysBounded(t *testing.T) {
	memo := &entitiesMemo{entries: map[string]models.Entities{}}
	for i := range maxMemoizedEntities + 10 {
		e := models.Entities{Tags: []models.Tag{{Text: fmt.Sprint("t", i), Pos: 0, Len: 2}}}
		if _, err := memo.decode(entitiesJSON(t, e)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(memo.entries); n == 0 || n > maxMemoizedEntities {
		t.Fatalf("%d entries remembered, want 1 to %d", n, maxMemoizedEntities)
	}
	long := models.Entities{
		Links:    []models.Link{{URL: "https://example.com/" + strings.Repeat("a", maxMemoizedEntitiesJSON)}},
		Mentions: []models.Mention{}, Tags: []models.Tag{},
	}
	got, err := memo.decode(entitiesJSON(t, long))
	if err != nil || !reflect.DeepEqual(got, long) {
		t.Fatalf("long entities decoded as %+v (%v)", got, err)
	}
	if _, kept := memo.entries[entitiesJSON(t, long)]; kept {
		t.Fatal("entities JSON over the bound was kept")
	}
	if _, err := memo.decode("{not json"); err == nil {
		t.Fatal("broken JSON decoded without an error")
	}
}
