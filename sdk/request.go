package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// do sends a signed request and decodes a 200 answer's JSON body into out.
// body is sent as is (nil: no body and no Content-Type). It retries 429, 503
// and network failures with the configured backoff, honouring Retry-After
// up to a cap, and stops waiting as soon as ctx is done.
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	return c.doObserved(ctx, method, path, body, out, nil)
}

// doObserved is do, calling failed (when not nil) with the error of every
// failed attempt, including those retried with success: Poll needs to know
// whether an answer may have been lost on the way.
func (c *Client) doObserved(ctx context.Context, method, path string, body []byte, out any, failed func(error)) error {
	if c.closed.Load() {
		return ErrClosed
	}
	for attempt := 0; ; attempt++ {
		err := c.attempt(ctx, method, path, body, out)
		if err == nil {
			return nil
		}
		if failed != nil {
			failed(err)
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		if attempt >= len(c.opts.backoff) || !retryable(err) {
			return err
		}
		wait := c.opts.backoff[attempt]
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			wait = min(max(wait, apiErr.RetryAfter), c.opts.maxRetryAfter)
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "sikkerkey: retrying request",
			slog.String("method", method), slog.String("path", path),
			slog.Int("attempt", attempt+1), slog.Duration("wait", wait), slog.String("error", err.Error()))
		if sleep(ctx, wait) != nil {
			return errors.Join(err, ctx.Err())
		}
	}
}

// retryable reports whether a failed attempt may be retried: HTTP 429, HTTP
// 503 and network failures (status 0).
func retryable(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.StatusCode {
	case 0, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt sends one signed request with a fresh timestamp and nonce, under
// the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, method, path string, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.timeout)
	defer cancel()
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	c.sign(req, body, c.now().Unix(), wire.NewNonce())
	return c.exchange(req, out)
}

// newRequest builds a request for base URL + path.
func (c *Client) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, rd)
	if err != nil {
		return nil, configError("cannot build request for %s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// sign adds the four authentication headers (protocol §3). The signed path
// is the path of the URL actually sent.
func (c *Client) sign(req *http.Request, body []byte, timestamp int64, nonce string) {
	path := req.URL.EscapedPath()
	req.Header.Set(wire.HeaderMachineID, c.id.MachineID)
	req.Header.Set(wire.HeaderTimestamp, strconv.FormatInt(timestamp, 10))
	req.Header.Set(wire.HeaderNonce, nonce)
	req.Header.Set(wire.HeaderSignature, wire.Sign(*c.key, req.Method, path, timestamp, nonce, body))
}

// exchange sends req and turns the answer into nil (200, decoded into out)
// or an error: *APIError for statuses and network failures,
// ErrInvalidResponse for a 200 that is not what the protocol says.
func (c *Client) exchange(req *http.Request, out any) error {
	path := req.URL.Path
	resp, err := c.http.Do(req)
	if err != nil {
		return networkError(req.Method, path, err)
	}
	defer resp.Body.Close()
	data, err := readBody(resp, req.Method, path)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &APIError{
			StatusCode: resp.StatusCode,
			Message:    errorMessage(resp.StatusCode, data),
			Method:     req.Method,
			Path:       path,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %s %s: body is not the expected JSON", ErrInvalidResponse, req.Method, path)
	}
	return nil
}

// readBody reads a response body of at most MaxResponseBytes. A failed
// read is a network error; a larger body is ErrInvalidResponse.
func readBody(resp *http.Response, method, path string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, networkError(method, path, err)
	}
	if len(data) > MaxResponseBytes {
		return nil, fmt.Errorf("%w: %s %s: body larger than %d bytes", ErrInvalidResponse, method, path, MaxResponseBytes)
	}
	return data, nil
}

func networkError(method, path string, err error) *APIError {
	msg := err.Error()
	var uerr interface{ Unwrap() error }
	if errors.As(err, &uerr) {
		if inner := uerr.Unwrap(); inner != nil {
			msg = inner.Error()
		}
	}
	return &APIError{StatusCode: 0, Message: msg, Method: method, Path: path, Err: err}
}

// maxErrorMessage bounds how much of an error body ends up in an error.
const maxErrorMessage = 512

// errorMessage is the server's {"error": "..."} text, else the raw body,
// else "HTTP <code>", cut to a readable length.
func errorMessage(code int, body []byte) string {
	var e struct {
		Error *string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != nil {
		return truncate(*e.Error, maxErrorMessage)
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		return truncate(strings.ToValidUTF8(s, "?"), maxErrorMessage)
	}
	return "HTTP " + strconv.Itoa(code)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
