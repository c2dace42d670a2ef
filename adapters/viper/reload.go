package sikkerkeyviper

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/sikkerkey-go/sikkerkey/adapters/internal/adapt"
	"github.com/spf13/viper"
)

// ErrClosed is returned by Reload after Close.
var ErrClosed = errors.New("sikkerkeyviper: reloader closed")

// ReloadConfig says how a Reloader builds a T. Only Setup is commonly
// needed; every field may be left zero.
type ReloadConfig[T any] struct {
	// Setup prepares each new viper instance before the secrets are merged
	// into it: SetDefault, SetConfigFile and ReadInConfig, AutomaticEnv,
	// BindEnv, BindPFlag, Set... It runs for every build, on the goroutine
	// doing the build. It must not call WatchConfig (which starts a goroutine
	// that is never stopped); call Reloader.Reload when the file changes.
	// An error fails the build.
	Setup func(v *viper.Viper) error
	// ViperOptions are passed to viper.NewWithOptions, for example
	// viper.KeyDelimiter (then give the same delimiter to WithDelim).
	ViperOptions []viper.Option
	// DecodeOptions are passed to v.Unmarshal.
	DecodeOptions []viper.DecoderConfigOption
	// Validate, when set, checks each decoded T; an error fails the build.
	Validate func(*T) error
	// OnChange, when set, is called after a build that produced a value
	// different (reflect.DeepEqual) from the current one, once the new value
	// is current. Calls never overlap. It must not call Reload.
	OnChange func(old, new *T)
	// OnError, when set, is called when a build started by a change in
	// SikkerKey failed (the current value stays), when polling failed (it
	// goes on), and when a secret was deleted or access to it was lost.
	// This package's errors never contain secret values; a decoding error
	// from viper's Unmarshal (mapstructure) may quote the text it could not
	// decode. Calls never overlap with each other or with OnChange. It must
	// not call Reload.
	OnError func(err error)
}

// Reloader keeps an up-to-date T built from viper and SikkerKey secrets,
// following the safe pattern for viper, which is not safe for concurrent
// use: every build makes a new viper instance (viper.NewWithOptions, then
// Setup), merges a new Snapshot into it, decodes a new T with Unmarshal,
// and swaps an atomic pointer. No viper instance is ever shared between
// goroutines or changed after its build.
//
// Builds happen at NewReloader, when SikkerKey reports a rotation of one of
// the secrets (through the client's poller: one poll request per interval
// for every secret the client watches), and when Reload is called. A failed
// build keeps the last good value and reports the error (to OnError, or to
// the caller of Reload).
//
// The client keeps one watch callback per secret id, so two reloaders (or a
// reloader and other code) on the same client must not watch the same id.
type Reloader[T any] struct {
	secrets *Secrets
	cfg     ReloadConfig[T]
	current atomic.Pointer[T]

	sem    chan struct{}   // capacity 1: held during a build and its hooks
	ctx    context.Context // bounds background builds; cancelled by Close
	cancel context.CancelFunc
	w      *adapt.Watcher
	closed atomic.Bool
}

// NewReloader builds the first T under ctx and returns a Reloader that
// rebuilds it on every change of the secrets. If the first build fails,
// NewReloader returns its error and nothing keeps running. Call Close when
// done.
func NewReloader[T any](ctx context.Context, secrets *Secrets, cfg ReloadConfig[T]) (*Reloader[T], error) {
	if secrets == nil {
		return nil, errors.New("sikkerkeyviper: NewReloader needs Secrets (got nil)")
	}
	r := &Reloader[T]{secrets: secrets, cfg: cfg, sem: make(chan struct{}, 1)}
	t, err := r.build(ctx)
	if err != nil {
		return nil, err
	}
	r.current.Store(t)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if r.w, err = secrets.set.Watch(adapt.WatchConfig{Deliver: r.onBatch}); err != nil {
		r.cancel()
		return nil, fmt.Errorf("sikkerkeyviper: %w", err)
	}
	return r, nil
}

// Current returns the current value, never nil. Treat it as read-only: it
// may be shared with every other caller, and a later build replaces it
// rather than changing it.
func (r *Reloader[T]) Current() *T {
	return r.current.Load()
}

// Reload builds a new T now, for example after the config file changed,
// and makes it current if the build succeeds; otherwise it returns the
// error and the current value stays. It waits for a build in progress
// first. It must not be called from OnChange or OnError.
func (r *Reloader[T]) Reload(ctx context.Context) error {
	if r.closed.Load() {
		return ErrClosed
	}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.sem }()
	if r.closed.Load() {
		return ErrClosed
	}
	return r.rebuild(ctx)
}

// Close stops watching, cancels a build in progress, and waits until the
// background goroutine has returned (unless called from OnChange or OnError
// during a background build). No hook starts after Close returns, except in
// a Reload still running. Close may be called more than once, and
// returns nil.
func (r *Reloader[T]) Close() error {
	if !r.closed.Swap(true) {
		r.cancel()
	}
	r.w.Close() // idempotent; every caller waits
	return nil
}

// onBatch handles news from the watcher, on the watcher's goroutine.
func (r *Reloader[T]) onBatch(w *adapt.Watcher, b adapt.Batch) {
	select {
	case r.sem <- struct{}{}:
	case <-w.Closed():
		return
	}
	defer func() { <-r.sem }()
	for _, err := range b.Errs {
		r.report(fmt.Errorf("sikkerkeyviper: %w", err))
	}
	if b.Changed {
		if err := r.rebuild(r.ctx); err != nil {
			r.report(err)
		}
	}
}

// report passes err to OnError unless the reloader is closed.
func (r *Reloader[T]) report(err error) {
	if r.cfg.OnError != nil && !r.closed.Load() {
		r.cfg.OnError(err)
	}
}

// rebuild builds a T and makes it current. The caller holds r.sem.
func (r *Reloader[T]) rebuild(ctx context.Context) error {
	t, err := r.build(ctx)
	if err != nil {
		return err
	}
	old := r.current.Load()
	if reflect.DeepEqual(old, t) {
		return nil
	}
	r.current.Store(t)
	if r.cfg.OnChange != nil && !r.closed.Load() {
		r.cfg.OnChange(old, t)
	}
	return nil
}

// build makes a new viper, runs Setup, merges a snapshot, and decodes and
// validates a new T.
func (r *Reloader[T]) build(ctx context.Context) (*T, error) {
	v := viper.NewWithOptions(r.cfg.ViperOptions...)
	if r.cfg.Setup != nil {
		if err := r.cfg.Setup(v); err != nil {
			return nil, fmt.Errorf("sikkerkeyviper: setup: %w", err)
		}
	}
	if err := r.secrets.MergeInto(ctx, v); err != nil {
		return nil, err
	}
	t := new(T)
	if err := v.Unmarshal(t, r.cfg.DecodeOptions...); err != nil {
		return nil, fmt.Errorf("sikkerkeyviper: decoding the configuration: %w", err)
	}
	if r.cfg.Validate != nil {
		if err := r.cfg.Validate(t); err != nil {
			return nil, fmt.Errorf("sikkerkeyviper: invalid configuration: %w", err)
		}
	}
	return t, nil
}
