package server

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// The users file holds one user per line:
//
//	name:bcrypt-hash[:read-only]
//
// '#' starts a comment line. Without the third field the user may run any
// statement; "read-only" users may only run queries (SELECT, SHOW,
// EXPLAIN, USE, SET). The file is re-read when it changes, so adding,
// removing a user or changing a password takes effect without a restart;
// bearer tokens of a removed user or of a changed password stop working.

// User is one entry of the users file.
type User struct {
	Name     string
	Hash     string // bcrypt
	ReadOnly bool
}

const readOnlyTag = "read-only"

// Users is a users file, reloaded when its modification time or size changes.
type Users struct {
	path string

	mu      sync.Mutex
	byName  map[string]User
	modTime time.Time
	size    int64
	checked time.Time
}

// LoadUsers reads the users file at path.
func LoadUsers(path string) (*Users, error) {
	u := &Users{path: path}
	if err := u.reload(); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *Users) reload() error {
	fi, err := os.Stat(u.path)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	b, err := os.ReadFile(u.path)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	users, err := parseUsers(b)
	if err != nil {
		return fmt.Errorf("users file %s: %w", u.path, err)
	}
	u.byName, u.modTime, u.size = users, fi.ModTime(), fi.Size()
	return nil
}

// lookup returns the user named name, re-reading the file (at most once a
// second) when it changed. A file that became unreadable keeps the last
// good contents.
func (u *Users) lookup(name string) (User, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if now := time.Now(); now.Sub(u.checked) >= time.Second {
		u.checked = now
		if fi, err := os.Stat(u.path); err == nil && (!fi.ModTime().Equal(u.modTime) || fi.Size() != u.size) {
			_ = u.reload()
		}
	}
	usr, ok := u.byName[name]
	return usr, ok
}

func parseUsers(b []byte) (map[string]User, error) {
	users := map[string]User{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "$2") {
			return nil, fmt.Errorf("line %d: want name:bcrypt-hash[:read-only]", n)
		}
		usr := User{Name: parts[0], Hash: parts[1]}
		if len(parts) == 3 {
			if parts[2] != readOnlyTag {
				return nil, fmt.Errorf("line %d: unknown role %q (want %q or nothing)", n, parts[2], readOnlyTag)
			}
			usr.ReadOnly = true
		}
		users[usr.Name] = usr
	}
	return users, sc.Err()
}

func validUserName(name string) error {
	if name == "" || strings.ContainsAny(name, ":\n\r#") || strings.TrimSpace(name) != name {
		return fmt.Errorf("invalid user name %q (no ':', '#', line breaks or surrounding spaces)", name)
	}
	return nil
}

// AddUser adds or replaces user name in the users file at path (created
// with mode 0600 if missing), hashing password with bcrypt.
func AddUser(path, name, password string, readOnly bool) error {
	if err := validUserName(name); err != nil {
		return err
	}
	if password == "" {
		return fmt.Errorf("empty password")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return editUsers(path, func(m map[string]User) error {
		m[name] = User{Name: name, Hash: string(hash), ReadOnly: readOnly}
		return nil
	})
}

// RemoveUser removes user name from the users file at path.
func RemoveUser(path, name string) error {
	return editUsers(path, func(m map[string]User) error {
		if _, ok := m[name]; !ok {
			return fmt.Errorf("no user %q in %s", name, path)
		}
		delete(m, name)
		return nil
	})
}

func editUsers(path string, edit func(map[string]User) error) error {
	users := map[string]User{}
	if b, err := os.ReadFile(path); err == nil {
		if users, err = parseUsers(b); err != nil {
			return fmt.Errorf("users file %s: %w", path, err)
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	if err := edit(users); err != nil {
		return err
	}
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	buf.WriteString("# Quiver users: name:bcrypt-hash[:read-only]. Manage with `quiver user add|remove`.\n")
	for _, n := range names {
		usr := users[n]
		buf.WriteString(usr.Name + ":" + usr.Hash)
		if usr.ReadOnly {
			buf.WriteString(":" + readOnlyTag)
		}
		buf.WriteByte('\n')
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".users-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
