package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// SecretListItem describes a secret the machine may read, without its value.
type SecretListItem struct {
	ID   string
	Name string
	// FieldNames lists the fields of a structured secret; nil for a
	// single-value secret, non-nil (possibly empty) for a structured one.
	FieldNames []string
	// ProjectID is "" when the server sends none.
	ProjectID string
}

// ExportedSecret is one secret of an export, with its value.
type ExportedSecret struct {
	ID    string
	Name  string
	Value string
	// FieldNames is nil for a single-value secret (see SecretListItem).
	FieldNames []string
}

// GetSecret returns the value of a secret. For a structured secret that is
// its JSON object text; use GetFields or GetField for the fields. With
// WithCache, a successful read is cached and an unavailable API is answered
// from the cache.
func (c *Client) GetSecret(ctx context.Context, id string) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	value, err := c.fetchSecret(ctx, id)
	return c.throughCache(ctx, id, value, err)
}

// fetchSecret reads a secret from the API.
func (c *Client) fetchSecret(ctx context.Context, id string) (string, error) {
	var resp struct {
		Value *string `json:"value"`
	}
	path := wire.PathSecretPrefix + id
	if err := c.do(ctx, "GET", path, nil, &resp); err != nil {
		return "", err
	}
	if resp.Value == nil {
		return "", fmt.Errorf("%w: GET %s: no value in the answer", ErrInvalidResponse, path)
	}
	return *resp.Value, nil
}

// GetFields returns the fields of a structured secret. Numbers and booleans
// become their JSON text, null becomes "", nested objects and arrays their
// compact JSON. A secret whose value is not a JSON object is
// ErrSecretStructure.
func (c *Client) GetFields(ctx context.Context, id string) (map[string]string, error) {
	value, err := c.GetSecret(ctx, id)
	if err != nil {
		return nil, err
	}
	return parseFields(id, value)
}

func parseFields(id, value string) (map[string]string, error) {
	fields, err := wire.ParseFields(value)
	if err != nil {
		return nil, fmt.Errorf("%w: secret %s is not a structured secret (its value is not a JSON object); use GetSecret", ErrSecretStructure, id)
	}
	return fields, nil
}

// GetField returns one field of a structured secret. A missing field is
// ErrFieldNotFound, and the message lists the fields that exist.
func (c *Client) GetField(ctx context.Context, id, field string) (string, error) {
	fields, err := c.GetFields(ctx, id)
	if err != nil {
		return "", err
	}
	v, ok := fields[field]
	if !ok {
		return "", fieldNotFound(id, field, fields)
	}
	return v, nil
}

func fieldNotFound(id, field string, fields map[string]string) error {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return fmt.Errorf("%w: secret %s has no field %q; available fields: %s", ErrFieldNotFound, id, field, strings.Join(names, ", "))
}

// ListSecrets lists every secret the machine has been granted.
func (c *Client) ListSecrets(ctx context.Context) ([]SecretListItem, error) {
	return c.list(ctx, "GET", wire.PathSecrets, nil)
}

// ListSecretsByProject lists the granted secrets of one project.
func (c *Client) ListSecretsByProject(ctx context.Context, projectID string) ([]SecretListItem, error) {
	body, err := json.Marshal(wire.ProjectRequest{ProjectID: projectID})
	if err != nil {
		return nil, err
	}
	return c.list(ctx, "POST", wire.PathSecretsList, body)
}

func (c *Client) list(ctx context.Context, method, path string, body []byte) ([]SecretListItem, error) {
	var resp struct {
		Secrets *[]wire.ListItem `json:"secrets"`
	}
	if err := c.do(ctx, method, path, body, &resp); err != nil {
		return nil, err
	}
	if resp.Secrets == nil {
		return nil, fmt.Errorf("%w: %s %s: no secrets in the answer", ErrInvalidResponse, method, path)
	}
	items := make([]SecretListItem, 0, len(*resp.Secrets))
	for _, s := range *resp.Secrets {
		item := SecretListItem{ID: s.ID, Name: s.Name, FieldNames: wire.SplitFieldNames(s.FieldNames)}
		if s.ProjectID != nil {
			item.ProjectID = *s.ProjectID
		}
		items = append(items, item)
	}
	return items, nil
}

// ExportSecrets returns every secret granted to the machine, with values,
// in one round trip; projectID "" means all projects.
func (c *Client) ExportSecrets(ctx context.Context, projectID string) ([]ExportedSecret, error) {
	items, err := c.export(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := make([]ExportedSecret, len(items))
	for i, it := range items {
		out[i] = ExportedSecret{ID: it.ID, Name: it.Name, Value: it.Value, FieldNames: wire.SplitFieldNames(it.FieldNames)}
	}
	return out, nil
}

// Export returns every granted secret as environment-style names: a
// structured secret becomes NAME_FIELD entries, any other NAME (protocol §7).
// Names are upper-cased with every run of characters outside A-Z and 0-9
// turned into one '_'. When names collide, the entry whose (secret id,
// field) sorts first wins, so the result never depends on response order.
// projectID "" means all projects.
func (c *Client) Export(ctx context.Context, projectID string) (map[string]string, error) {
	items, err := c.export(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return wire.Flatten(items), nil
}

func (c *Client) export(ctx context.Context, projectID string) ([]wire.ExportItem, error) {
	var body []byte
	if projectID != "" {
		var err error
		if body, err = json.Marshal(wire.ProjectRequest{ProjectID: projectID}); err != nil {
			return nil, err
		}
	}
	var resp struct {
		Secrets *[]wire.ExportItem `json:"secrets"`
	}
	if err := c.do(ctx, "POST", wire.PathExport, body, &resp); err != nil {
		return nil, err
	}
	if resp.Secrets == nil {
		return nil, fmt.Errorf("%w: POST %s: no secrets in the answer", ErrInvalidResponse, wire.PathExport)
	}
	return *resp.Secrets, nil
}

// EnvName turns a secret or field name into the environment-style name
// Export uses: "Database Credentials" becomes DATABASE_CREDENTIALS.
func EnvName(name string) string { return wire.EnvName(name) }
