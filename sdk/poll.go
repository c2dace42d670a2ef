package sdk

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// WatchStatus is what a poll says about a secret, or the kind of a watch
// event.
type WatchStatus string

// Watch statuses. A poll answer may also carry a status this package does
// not know; Poll passes it through unchanged and Watch reports it as
// WatchError.
const (
	// WatchChanged: the secret has a new version.
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
	if err := c.do(ctx, "POST", wire.PathPoll, body, &resp); err != nil {
		return nil, err
	}
	if resp.Changes == nil {
		return nil, fmt.Errorf("%w: POST %s: no changes object in the answer", ErrInvalidResponse, wire.PathPoll)
	}
	for id, ch := range *resp.Changes {
		if wanted[id] {
			result[id] = WatchStatus(ch.Status)
		}
	}
	return result, nil
}
