package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// WatchStatus is what a poll says about a secret, or the kind of a watch
// event.
type WatchStatus string

// Watch statuses. A poll answer may also carry a status this package does
// not know; Poll passes it through unchanged and Watch reports it as
// WatchError.
const (
	// WatchChanged: the secret has a new version (or, after a poll whose
	// answer may have been lost, may have one: see Client.Poll).
	WatchChanged WatchStatus = wire.PollChanged
	// WatchDeleted: the secret was deleted; the watch ends.
	WatchDeleted WatchStatus = wire.PollDeleted
	// WatchAccessDenied: the machine lost access; the watch ends.
	WatchAccessDenied WatchStatus = wire.PollAccessDenied
	// WatchError: the poll or the re-read failed; Err says why.
	WatchError WatchStatus = "error"
)

// Poll asks the server, in one request, which of ids changed since this
// machine last read or polled them. Only ids with news are in the result,
// so an empty map means nothing changed. ids must be valid secret ids; an
// empty list makes no request. Poll is the primitive Watch is built on, for
// callers that watch many secrets on their own schedule.
//
// The server reports each change once, so a poll it processed but whose
// answer was lost (no answer or a timeout, an answer that cannot be read,
// a 5xx), even one retried with success, may have taken news with it. The
// next poll of those ids that gets an answer reports each of them as
// WatchChanged unless it has other news: a change may be reported twice,
// never lost. A 4xx answer (429 included) is a refusal and changes nothing.
func (c *Client) Poll(ctx context.Context, ids []string) (map[string]WatchStatus, error) {
	result := map[string]WatchStatus{}
	if len(ids) == 0 {
		return result, nil
	}
	wanted := make(map[string]bool, len(ids))
	for _, id := range ids {
		if err := checkID(id); err != nil {
			return nil, err
		}
		wanted[id] = true
	}
	body, err := json.Marshal(wire.PollRequest{Watch: ids})
	if err != nil {
		return nil, err
	}
	var resp struct {
		Changes *map[string]wire.PollChange `json:"changes"`
	}
	lost := false // an attempt's answer may have been lost after processing
	err = c.doObserved(ctx, "POST", wire.PathPoll, body, &resp, func(err error) {
		lost = lost || answerMayBeLost(err)
	})
	if err == nil && resp.Changes == nil {
		err = fmt.Errorf("%w: POST %s: no changes object in the answer", ErrInvalidResponse, wire.PathPoll)
		lost = true
	}
	if err != nil {
		if lost {
			c.pollDoubts.add(ids)
		}
		return nil, err
	}
	for id, ch := range *resp.Changes {
		if wanted[id] {
			result[id] = WatchStatus(ch.Status)
		}
	}
	for _, id := range c.pollDoubts.take(ids, lost) {
		if _, news := result[id]; !news {
			result[id] = WatchChanged
		}
	}
	return result, nil
}

// answerMayBeLost reports whether a failed poll attempt may have been
// processed by the server: no answer (a network failure or timeout), an
// answer that cannot be read, or a 5xx, which the server or a proxy in
// front of it (a 502, 503 or 504 after the server took the request) may
// send once the poll is done. Only a 4xx (429 included) is a refusal
// before any work.
func answerMayBeLost(err error) bool {
	if errors.Is(err, ErrInvalidResponse) {
		return true
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.StatusCode == 0 || apiErr.StatusCode >= 500
}

// pollDoubts holds the ids of polls whose answer may have been lost, until
// a poll of them gets an answer (see Poll).
type pollDoubts struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (d *pollDoubts) add(ids []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ids == nil {
		d.ids = make(map[string]bool, len(ids))
	}
	for _, id := range ids {
		d.ids[id] = true
	}
}

// take returns the ids of ids in doubt (all of them when all is set) and
// clears their doubt.
func (d *pollDoubts) take(ids []string, all bool) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, id := range ids {
		if all || d.ids[id] {
			out = append(out, id)
			delete(d.ids, id)
		}
	}
	return out
}
