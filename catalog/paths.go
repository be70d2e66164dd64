package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/quiverdb/quiver/qerr"
)

// ResolvePath checks that a path named in SQL lies under the data dir or an
// allowed directory and returns its cleaned absolute form (PermissionDenied otherwise).
// Symlinks are resolved first (in the parent folder and in the file itself),
// so a link cannot lead out of the allowed directories.
func (c *Catalog) ResolvePath(path string) (string, error) {
	if path == "" {
		return "", qerr.New(qerr.InvalidArgument, "Incorrect file name ''")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", qerr.Wrap(qerr.InvalidArgument, err, "Incorrect file name '%s'", path)
	}
	real, err := resolveLinks(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", qerr.New(qerr.NotFound, "Can't create/write to file '%s' (OS errno 2 - No such file or directory)", path)
		}
		return "", qerr.Wrap(qerr.InvalidArgument, err, "Incorrect file name '%s'", path)
	}
	for _, dir := range c.allowed {
		if within(dir, real) {
			return real, nil
		}
	}
	return "", qerr.New(qerr.PermissionDenied,
		"The server is running with the --secure-file-priv option so it cannot execute this statement: '%s' is not under an allowed directory (%s)",
		path, strings.Join(c.allowed, ", "))
}

// within reports whether p is dir or lies below it (both cleaned, absolute).
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolveLinks resolves every symlink of an absolute path, including a
// final component that is a (possibly dangling) link: writing through a
// dangling link would create its target.
func resolveLinks(abs string) (string, error) {
	for range 40 {
		parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
		if err != nil {
			return "", err
		}
		p := filepath.Join(parent, filepath.Base(abs))
		info, err := os.Lstat(p)
		if err != nil || info.Mode()&os.ModeSymlink == 0 {
			return p, nil // a regular entry, or one to be created
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(parent, target)
		}
		abs = filepath.Clean(target)
	}
	return "", errors.New("too many levels of symbolic links")
}
