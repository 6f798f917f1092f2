package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// scenarioNames are the scenarios in the order they run: reads first, on
// the seeded data alone, then the writes, then fanout, whose deliveries
// would otherwise still be in flight during other runs.
var scenarioNames = []string{"global", "personal", "tag", "thread", "markers", "create", "mixed", "fanout"}

// baselineScenarios are the reads the baseline handler serves too.
var baselineScenarios = []string{"global", "personal"}

// reader is a user the scenarios act as.
type reader struct {
	ID       int64
	Username string
	Token    string
}

// workload is what the scenarios send: read requests found by paging
// through the streams once, and the writers' identities.
type workload struct {
	readers []reader
	reads   map[string][]request // scenario → its page requests (pages 1–3)
	runID   string               // keeps texts distinct across runs on one database
	lastID  int64                // newest post id when the run began, where markers start
	writes  atomic.Uint64        // numbers posts and marker moves across all runs
}

const (
	streamCount = 20
	streamPages = 3
	maxThreads  = 20
	maxReaders  = 100
)

// discover pages through each stream as a client would, taking each
// page's before_id from the previous page's min_id, and keeps the page
// requests for the load to replay.
func discover(ctx context.Context, base string, readers []reader, threads []int64, tags []string) (*workload, error) {
	w := &workload{readers: readers, reads: map[string][]request{}, runID: randomHex(3)}
	if len(readers) == 0 {
		return nil, fmt.Errorf("discover: no users with tokens")
	}
	c := &apiClient{base: base}
	first := readers[0].Token
	global, pages, err := c.pages(ctx, first, "/v1/posts/streams/global?count="+strconv.Itoa(streamCount))
	if err != nil {
		return nil, err
	}
	if len(pages) > 0 && len(pages[0].Data) > 0 {
		w.lastID, _ = strconv.ParseInt(pages[0].Data[0].ID, 10, 64)
	}
	w.reads["global"] = forEachReader(readers, global)
	if len(threads) == 0 {
		threads = threadsIn(pages)
	}
	if len(tags) == 0 {
		tags = tagsIn(pages)
	}
	if w.reads["personal"], err = c.personalPages(ctx, readers); err != nil {
		return nil, err
	}
	for _, tag := range tags {
		paths, _, err := c.pages(ctx, first, "/v1/posts/tags/"+url.PathEscape(tag)+"?count="+strconv.Itoa(streamCount))
		if err != nil {
			return nil, err
		}
		w.reads["tag"] = append(w.reads["tag"], forEachReader(readers, paths)...)
	}
	for _, id := range threads[:min(len(threads), maxThreads)] {
		paths, _, err := c.pages(ctx, first, "/v1/posts/"+strconv.FormatInt(id, 10)+"/thread?count="+strconv.Itoa(streamCount))
		if err != nil {
			return nil, err
		}
		w.reads["thread"] = append(w.reads["thread"], forEachReader(readers, paths)...)
	}
	for name, reqs := range w.reads {
		if len(reqs) == 0 {
			return nil, fmt.Errorf("discover: the %s stream is empty", name)
		}
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	}
	return w, nil
}

func withToken(paths []string, token string) []request {
	out := make([]request, len(paths))
	for i, p := range paths {
		out[i] = request{Method: http.MethodGet, Path: p, Token: token}
	}
	return out
}

// forEachReader is every reader reading every page: the pages of public
// streams are the same for all of them.
func forEachReader(readers []reader, paths []string) []request {
	var out []request
	for _, r := range readers {
		out = append(out, withToken(paths, r.Token)...)
	}
	return out
}

// personalPages pages through each reader's personal stream, a few
// readers at a time.
func (c *apiClient) personalPages(ctx context.Context, readers []reader) ([]request, error) {
	found := make([][]request, len(readers))
	errs := make([]error, len(readers))
	slots := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			paths, _, err := c.pages(ctx, r.Token, "/v1/posts/streams/me?count="+strconv.Itoa(streamCount))
			found[i], errs[i] = withToken(paths, r.Token), err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return slices.Concat(found...), nil
}

// threadsIn finds threads with replies among the posts of some pages, for
// a server whose data the tool did not make.
func threadsIn(pages []envelope) []int64 {
	var ids []int64
	for _, p := range pages {
		for _, post := range p.Data {
			id, _ := strconv.ParseInt(post.ThreadID, 10, 64)
			if post.ReplyTo != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 && len(pages) > 0 && len(pages[0].Data) > 0 {
		id, _ := strconv.ParseInt(pages[0].Data[0].ThreadID, 10, 64)
		ids = append(ids, id)
	}
	return ids
}

// tagsIn finds up to five tags used in some pages.
func tagsIn(pages []envelope) []string {
	var tags []string
	for _, p := range pages {
		for _, post := range p.Data {
			if post.Content == nil {
				continue
			}
			for _, t := range post.Content.Entities.Tags {
				if tag := strings.ToLower(t.Text); !slices.Contains(tags, tag) && len(tags) < 5 {
					tags = append(tags, tag)
				}
			}
		}
	}
	if len(tags) == 0 {
		tags = []string{"bench"}
	}
	return tags
}

// source is the request source of a scenario.
func (w *workload) source(name string) requestSource {
	switch name {
	case "create":
		return w.create
	case "markers":
		return w.marker
	case "mixed":
		return w.mixed
	}
	reads := w.reads[name]
	return func(seq uint64) request { return reads[seq%uint64(len(reads))] }
}

// create is a new post with distinct text, links, a mention and tags,
// from the writers in turn.
func (w *workload) create(uint64) request {
	seq := w.writes.Add(1)
	author := w.readers[seq%uint64(len(w.readers))]
	mentioned := w.readers[(seq+7)%uint64(len(w.readers))]
	tag := tagNames[seq%uint64(len(tagNames))]
	txt := fmt.Sprintf("Load test %s-%d: notes at https://example.com/bench/%d and [the docs](https://pnut.io/docs) for @%s #bench #%s",
		w.runID, seq, seq, mentioned.Username, tag)
	body, _ := json.Marshal(map[string]string{"text": txt})
	return request{Method: http.MethodPost, Path: "/v1/posts", Token: author.Token, Body: body}
}

// marker moves a writer's personal marker forward.
func (w *workload) marker(uint64) request {
	seq := w.writes.Add(1)
	r := w.readers[seq%uint64(len(w.readers))]
	body := fmt.Sprintf(`[{"name":"personal","id":"%d","percentage":%d}]`, w.lastID+int64(seq), seq%100)
	return request{Method: http.MethodPost, Path: "/v1/markers", Token: r.Token, Body: []byte(body)}
}

// mixed is 90 % reads, spread evenly over the four read scenarios, and
// 10 % writes: half new posts, half marker updates.
func (w *workload) mixed(seq uint64) request {
	h := mix64(seq)
	switch r := h % 100; {
	case r < 5:
		return w.create(seq)
	case r < 10:
		return w.marker(seq)
	}
	reads := w.reads[[]string{"global", "personal", "tag", "thread"}[(h/100)%4]]
	return reads[(h/400)%uint64(len(reads))]
}

// mix64 scatters sequence numbers (splitmix64), so the mix holds over any
// stretch of requests.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// envelope is the part of a pnut answer the tool reads.
type envelope struct {
	Meta struct {
		Code  int    `json:"code"`
		MinID string `json:"min_id"`
		More  bool   `json:"more"`
	} `json:"meta"`
	Data []struct {
		ID       string `json:"id"`
		ThreadID string `json:"thread_id"`
		ReplyTo  string `json:"reply_to"`
		Content  *struct {
			Entities struct {
				Tags []struct {
					Text string `json:"text"`
				} `json:"tags"`
			} `json:"entities"`
		} `json:"content"`
	} `json:"data"`
}

// apiClient makes the tool's own few requests: discovery and fanout posts.
type apiClient struct {
	base string
	http http.Client
}

func (c *apiClient) do(ctx context.Context, method, path, token string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// pages reads up to three pages of a stream and returns their paths.
func (c *apiClient) pages(ctx context.Context, token, first string) ([]string, []envelope, error) {
	paths := []string{first}
	var pages []envelope
	for len(pages) < streamPages {
		var env envelope
		if err := c.do(ctx, http.MethodGet, paths[len(paths)-1], token, nil, &env); err != nil {
			return nil, nil, fmt.Errorf("discover: %w", err)
		}
		pages = append(pages, env)
		if !env.Meta.More || env.Meta.MinID == "" || len(pages) == streamPages {
			break
		}
		paths = append(paths, first+"&before_id="+env.Meta.MinID)
	}
	return paths[:len(pages)], pages, nil
}

// whoAmI asks the server whose a token is, for --target runs.
func (c *apiClient) whoAmI(ctx context.Context, token string) (reader, error) {
	var info struct {
		Data struct {
			User struct {
				ID       string `json:"id"`
				Username string `json:"username"`
			} `json:"user"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/token", token, nil, &info); err != nil {
		return reader{}, err
	}
	id, _ := strconv.ParseInt(info.Data.User.ID, 10, 64)
	return reader{ID: id, Username: info.Data.User.Username, Token: token}, nil
}
