// Command http-service is an HTTP service whose database credentials are
// rotated under load without a restart and without a failed request.
//
//	go run ./examples/http-service
//
// Every request reads the credentials from Watcher.Current, which is one
// atomic load: no lock, no allocation, never a half-updated config. A
// connection pool keeps idle connections; OnChange resets it, so connections
// made with the old password are dropped right after a rotation. A local
// SikkerKey test server and a pretend database stand in for the real ones.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sikkerkey-go/sikkerkey"
	"github.com/sikkerkey-go/sikkerkey/sdk"
	"github.com/sikkerkey-go/sikkerkey/sdk/sikkerkeytest"
)

// Config holds the database credentials, every field of secret sk_db_prod.
type Config struct {
	DB Database `sikkerkey:"sk_db_prod"`
}

// Database is the structured secret sk_db_prod.
type Database struct {
	Host     string
	Port     int
	User     string
	Password sikkerkey.Secret
}

// The three passwords the database goes through. None of them is ever printed.
var passwords = []string{"pw-one-Vb28sLq", "pw-two-Hn40xRe", "pw-three-Tc93kWz"}

const clients = 4 // goroutines sending requests in a loop

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "http-service:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	db := newDatabase(passwords[0])
	srv := sikkerkeytest.NewServer()
	defer srv.Close()
	srv.PutFields("sk_db_prod", "Database", "", dbSecret(passwords[0]))

	// SikkerKey allows one poll every 10 s at most, and the client enforces it.
	// The test server has no such limit, so this example lowers the floor and
	// polls every 100 ms, to show a rotation found by polling in a blink.
	client, err := srv.AddMachine("web-1").Client(sdk.WithMinPollInterval(50 * time.Millisecond))
	if err != nil {
		return err
	}
	defer client.Close()
	w, err := sikkerkey.Watch[Config](ctx, sikkerkey.WithClient(client), sikkerkey.WithPollInterval(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer w.Close()

	pool := &pool{db: db}
	changed := make(chan struct{}, 1)
	w.OnChange(func(old, new *Config) {
		closed := pool.reset() // connections made with the old password go
		fmt.Fprintf(out, "   OnChange: credentials v%d → v%d; pool reset, %d idle connections closed.\n",
			db.version(old.DB.Password), db.version(new.DB.Password), closed)
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	w.OnError(func(err error) { fmt.Fprintln(out, "   OnError:", err) })

	// The service: every request takes the credentials from w.Current().
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders", func(rw http.ResponseWriter, r *http.Request) {
		creds := w.Current().DB
		conn, err := pool.acquire(creds)
		if err != nil {
			http.Error(rw, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		defer pool.release(conn)
		fmt.Fprintf(rw, "v%d", conn.version) // which credentials served this request
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	fmt.Fprintf(out, "1. Serving http://%s/orders; every request reads the database\n", ln.Addr())
	fmt.Fprintln(out, "   credentials from w.Current() (now v1) and takes a connection from the pool.")

	// Clients hammer the service until told to stop.
	load := startLoad("http://" + ln.Addr().String() + "/orders")
	time.Sleep(300 * time.Millisecond)

	// 2. Rotation found by polling. The database accepts the new password
	// first, then it is rotated in SikkerKey, the usual order.
	fmt.Fprintf(out, "\n2. Rotating the password in SikkerKey under load (%d clients); the poller finds it:\n", clients)
	db.allow(passwords[1])
	srv.RotateFields("sk_db_prod", dbSecret(passwords[1]))
	rotated := time.Now()
	if err := wait(changed); err != nil {
		return err
	}
	fmt.Fprintf(out, "   Polling found it %v after the rotation.\n", time.Since(rotated).Round(time.Millisecond))
	load.expect(2) // from now on, every request must use v2 or later
	time.Sleep(300 * time.Millisecond)

	// 3. Rotation applied at once with Refresh, as a SIGHUP handler or an
	// admin endpoint would. (The poller may get there first; either way the
	// swap happens once.)
	fmt.Fprintln(out, "\n3. Rotating it again, then calling w.Refresh(ctx) at once:")
	db.allow(passwords[2])
	srv.RotateFields("sk_db_prod", dbSecret(passwords[2]))
	if err := w.Refresh(ctx); err != nil {
		return err
	}
	load.expect(3) // Refresh has returned: Current() has v3
	if err := wait(changed); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)

	// 4. Stop the load and report.
	stats := load.stop()
	fmt.Fprintf(out, "\n4. %d clients sent %d requests: %d failed, %d used older credentials after a swap.\n",
		clients, stats.total, stats.failed, stats.stale)
	for v := 1; v <= len(passwords); v++ {
		fmt.Fprintf(out, "     served with credentials v%d: %d\n", v, stats.byVersion[v])
	}

	// 5. Graceful shutdown: stop accepting, let in-flight requests finish.
	shutdownCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	w.Close()
	fmt.Fprintln(out, "\n5. Shut the HTTP server down gracefully and closed the watcher.")
	if stats.failed > 0 || stats.stale > 0 {
		return fmt.Errorf("%d requests failed, %d used stale credentials", stats.failed, stats.stale)
	}
	return nil
}

func dbSecret(password string) map[string]string {
	return map[string]string{"host": "postgres.internal", "port": "5432", "user": "orders", "password": password}
}

func wait(changed <-chan struct{}) error {
	select {
	case <-changed:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("no OnChange within 10 s")
	}
}

// database pretends to be a database server: it accepts a set of passwords,
// each numbered in the order it was added, which is the "credentials version"
// this example prints instead of a password.
type database struct {
	mu        sync.RWMutex
	passwords map[string]int
}

func newDatabase(password string) *database {
	return &database{passwords: map[string]int{password: 1}}
}

func (d *database) allow(password string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.passwords[password] = len(d.passwords) + 1
}

// version returns the version of a password, 0 for a wrong one.
func (d *database) version(password sikkerkey.Secret) int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.passwords[password.Reveal()]
}

func (d *database) connect(creds Database) (*conn, error) {
	v := d.version(creds.Password)
	if creds.User != "orders" || v == 0 {
		return nil, errors.New("authentication failed")
	}
	return &conn{password: creds.Password, version: v}, nil
}

type conn struct {
	password sikkerkey.Secret // the credentials it was opened with
	version  int
}

// pool keeps idle connections, as database/sql or pgxpool do.
type pool struct {
	db   *database
	mu   sync.Mutex
	idle []*conn
}

// acquire returns an idle connection opened with creds, or a new one.
func (p *pool) acquire(creds Database) (*conn, error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if c.password == creds.Password {
			p.mu.Unlock()
			return c, nil
		}
	}
	p.mu.Unlock()
	return p.db.connect(creds)
}

func (p *pool) release(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, c)
}

// reset closes every idle connection and returns how many there were.
func (p *pool) reset() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	p.idle = nil
	return n
}

// load runs the client goroutines and counts what they see.
type load struct {
	minVersion atomic.Int64 // a response below this is stale
	stopped    chan struct{}
	wg         sync.WaitGroup
	mu         sync.Mutex
	stats      stats
	transport  *http.Transport
}

type stats struct {
	total, failed, stale int
	byVersion            map[int]int
}

func startLoad(url string) *load {
	l := &load{stopped: make(chan struct{}), transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	l.stats.byVersion = map[int]int{}
	hc := &http.Client{Transport: l.transport, Timeout: 5 * time.Second}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; i < 20000; i++ { // bounded, in case stop never comes
				select {
				case <-l.stopped:
					return
				default:
				}
				l.record(hc, url)
				time.Sleep(time.Millisecond) // leave some CPU to the rest of the machine
			}
		}()
	}
	return l
}

// record sends one request and counts the result.
func (l *load) record(hc *http.Client, url string) {
	oldest := l.minVersion.Load()
	var v int64
	resp, err := hc.Get(url)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = errors.New(resp.Status)
		} else if _, err = fmt.Sscanf(strings.TrimSpace(string(body)), "v%d", &v); err != nil {
			err = fmt.Errorf("unexpected body")
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.total++
	switch {
	case err != nil:
		l.stats.failed++
	case v < oldest:
		l.stats.stale++
	}
	l.stats.byVersion[int(v)]++
}

// expect marks version v as the oldest acceptable from now on.
func (l *load) expect(v int64) { l.minVersion.Store(v) }

func (l *load) stop() stats {
	close(l.stopped)
	l.wg.Wait()
	l.transport.CloseIdleConnections()
	return l.stats
}
