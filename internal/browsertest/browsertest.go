// Package browsertest opens a web page in headless Chromium, for tests that
// look at a page the way a person would: did it load without errors in the
// console, did every image show.
//
// It is for tests only: nothing but _test.go files may import it (it starts
// a browser and fails or skips the test it is given). It must not reach
// the network: the browser is started with background networking, updates
// and sync switched off, and the pages it is given are files or loopback
// servers.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// RequireEnv names the environment variable that, set to 1, makes a test
// fail instead of skipping when no Chromium is installed. CI sets it, so
// that CI cannot pass without looking at the page.
const RequireEnv = "STAMPSIM_REQUIRE_BROWSER"

// browserNames are the programs tried, in order: Debian's package installs
// /usr/bin/chromium.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome"}

// timeout bounds one page's whole visit, the browser's start included: a
// browser that hangs fails the test instead of holding it until go test's
// own timeout.
const timeout = 2 * time.Minute

// Page is what the browser saw of a page once it had loaded.
type Page struct {
	// Errors are the console messages of level error and the uncaught
	// exceptions, each as "error: TEXT (URL:LINE)". An image or stylesheet
	// that failed to load is one.
	Errors []string
	// Images are the page's <img> elements, in document order.
	Images []Image

	ctx context.Context
}

// Image is one <img> element as the browser loaded it.
type Image struct {
	// Src is the absolute URL the image was loaded from.
	Src string `json:"src"`
	// NaturalWidth and NaturalHeight are the size of the decoded image in
	// pixels: 0 when it did not load.
	NaturalWidth  int `json:"naturalWidth"`
	NaturalHeight int `json:"naturalHeight"`
}

// FileURL is the file:// URL of path.
func FileURL(t testing.TB, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

// Find returns the path of the Chromium to use. Without one, it skips t,
// or fails it when RequireEnv is set to 1.
func Find(t testing.TB) string {
	t.Helper()
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("no Chromium found (tried %v in PATH); install Debian's chromium package to run this test", browserNames)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (%s=1 requires it)", msg, RequireEnv)
	}
	t.Skip(msg + " (set " + RequireEnv + "=1 to fail instead of skipping)")
	return ""
}

// Open starts a fresh headless Chromium with an empty profile of its own,
// loads url in it and waits for the page's load event (by which every
// image has loaded or failed), and returns what it saw. The browser is
// stopped and its profile removed when t ends. See Find for when there is
// no Chromium.
func Open(t testing.TB, url string) *Page {
	t.Helper()
	path := Find(t)
	profile, err := os.MkdirTemp("", "stampsim-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so that it runs after the browser has stopped.
	t.Cleanup(func() { removeProfile(t, profile) })

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // CI runs as root, where the sandbox cannot start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	)
	t.Cleanup(cancelAlloc)

	p := &Page{}
	var mu sync.Mutex
	// The listener sees every event of the tab from its start, in order,
	// and before the reply to any command sent after the event: so once
	// the images have been read below, every error of the load is in.
	listen := func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				msg = fmt.Sprintf("console.%s: %s", e.Type, argsText(e.Args))
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + (&chromedp.ExceptionError{ExceptionDetails: e.ExceptionDetails}).Error()
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				msg = fmt.Sprintf("error: %s (%s:%d)", e.Entry.Text, e.Entry.URL, e.Entry.LineNumber)
			}
		}
		if msg != "" {
			mu.Lock()
			p.Errors = append(p.Errors, msg)
			mu.Unlock()
		}
	}
	ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithListener(listen))
	t.Cleanup(func() {
		// A graceful close, so that the browser's children are gone before
		// the profile is removed.
		_ = chromedp.Cancel(ctx)
		cancelTab()
	})
	p.ctx = ctx

	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s in %s: %v", url, path, err)
	}
	images, err := chromedp.Run(ctx, chromedp.Evaluate[[]Image](
		`Array.from(document.images, i => ({src: i.src, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight}))`))
	if err != nil {
		t.Fatalf("reading the images of %s: %v", url, err)
	}
	p.Images = images
	mu.Lock()
	p.Errors = append([]string(nil), p.Errors...)
	mu.Unlock()
	return p
}

// Eval evaluates the JavaScript expression on the page and returns its
// value, decoded from JSON into a T; it fails t if the expression throws
// or its value is not a T.
func Eval[T any](t testing.TB, p *Page, expr string) T {
	t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// argsText joins a console call's arguments as the console shows them.
func argsText(args []*runtime.RemoteObject) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		switch {
		case len(a.Value) > 0:
			s += string(a.Value)
		default:
			s += a.Description
		}
	}
	return s
}

// removeProfile removes the browser's profile directory. Chromium's child
// processes can still write into it for a moment after the browser has
// stopped, so a removal that finds it not empty is tried again.
func removeProfile(t testing.TB, dir string) {
	var err error
	for range 50 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("removing the browser profile %s: %v", dir, err)
	}
}
