/*
Copyright 2026 The tokenwarden authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record/util"
	"k8s.io/client-go/tools/reference"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// eventWriter records the controller's events (events.k8s.io/v1) as client-go's events
// recorder does, but without the copy of every event that recorder's broadcaster keeps
// for six to twelve minutes to merge repeats into a series: after a burst of token
// issues, about 1.3 KB per connection (docs/scaling.md). The controller records an event
// only when something changes (a token issued, a stall that is new), so there is nothing
// to merge. Like client-go's, it drops events when more than maxQueuedEvents wait (a
// queued event costs its memory only until it is written), and retries a write only when
// the API server could not be reached.
type eventWriter struct {
	client     client.Client
	scheme     *runtime.Scheme
	controller string
	instance   string
	queue      chan *eventsv1.Event
	log        logr.Logger
}

// The queue absorbs a burst of token issues (every connection created at once) while the
// workers write at the API server's pace; client-go's recorder writes each event from a
// goroutine of its own instead, and keeps a copy of it afterwards.
const (
	maxQueuedEvents = 10000
	eventWorkers    = 16
	eventTries      = 5
)

func newEventWriter(c client.Client, scheme *runtime.Scheme, controller string, log logr.Logger) *eventWriter {
	host, _ := os.Hostname()
	return &eventWriter{client: c, scheme: scheme, controller: controller, instance: controller + "-" + host,
		queue: make(chan *eventsv1.Event, maxQueuedEvents), log: log}
}

// Eventf queues an event about regarding; it never blocks.
func (w *eventWriter) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	ref, err := reference.GetReference(w.scheme, regarding)
	if err != nil {
		w.log.Error(err, "Failed to reference the object of an event; dropped it", "reason", reason)
		return
	}
	now := time.Now()
	e := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      util.GenerateEventName(ref.Name, now.UnixNano()),
			Namespace: cmp.Or(ref.Namespace, metav1.NamespaceDefault),
		},
		EventTime:           metav1.MicroTime{Time: now},
		ReportingController: w.controller,
		ReportingInstance:   w.instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Note:                fmt.Sprintf(note, args...),
		Type:                eventtype,
	}
	if related != nil {
		if rel, err := reference.GetReference(w.scheme, related); err == nil {
			e.Related = rel
		}
	}
	select {
	case w.queue <- e:
	default:
		w.log.Info("Dropped an event: too many wait to be written", "reason", reason, "object", ref.Name)
	}
}

// Start writes the queued events until ctx ends.
func (w *eventWriter) Start(ctx context.Context) error {
	done := make(chan struct{})
	for range eventWorkers {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				select {
				case <-ctx.Done():
					return
				case e := <-w.queue:
					w.write(ctx, e)
				}
			}
		}()
	}
	for range eventWorkers {
		<-done
	}
	return nil
}

func (w *eventWriter) write(ctx context.Context, e *eventsv1.Event) {
	backoff := time.Second
	for try := 1; ; try++ {
		err := w.client.Create(ctx, e)
		if err == nil {
			return
		}
		var status apierrors.APIStatus
		if errors.As(err, &status) || try == eventTries {
			// The API server refused it: writing it again would not help.
			w.log.Error(err, "Failed to write an event; dropped it", "reason", e.Reason, "object", e.Regarding.Name)
			return
		}
		if !sleep(ctx, backoff) {
			return
		}
		backoff *= 2
		e.ResourceVersion = ""
	}
}

// NeedLeaderElection: events are recorded by reconciles, which only the leader runs. Like
// client-go's broadcaster, the writer drops what is still queued when the manager stops.
func (w *eventWriter) NeedLeaderElection() bool { return true }
