// A small Node-API binding to CycloneDDS (0.10.x, the robot's) for the unitree_go messages: participants,
// writers, readers and a fixed-rate command repeater. JavaScript owns the message layouts: a sample crosses
// the boundary as the bytes of the C struct idlc generated (the packed layouts of src/link/dds/layout.ts),
// which the static asserts below pin down. Readers never block DDS threads: the listener only raises a
// flag and wakes the JavaScript thread (napi_threadsafe_function, non-blocking), which then takes the
// samples. Writers never block: keep-last history and a zero max_blocking_time. The repeater is a native
// thread with absolute deadlines, so the 500 Hz command stream keeps its rate while JavaScript is busy
// (a policy call, a garbage collection); it falls back to the damping frame once the latest command is
// older than the configured age, so a stalled control loop leaves the robot damped, not stiff.
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <dds/dds.h>
#include <dds/version.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "unitree_go.h"

typedef unitree_go_msg_dds__LowCmd_ LowCmd;
typedef unitree_go_msg_dds__LowState_ LowState;
typedef unitree_go_msg_dds__WirelessController_ Wireless;

// The layouts the TypeScript side packs (h1-interface-and-runtimes.md §A4 for LowCmd).
_Static_assert(sizeof(LowCmd) == 812, "LowCmd is 812 bytes");
_Static_assert(offsetof(LowCmd, motor_cmd) == 24 && offsetof(LowCmd, bms_cmd) == 744, "LowCmd offsets");
_Static_assert(offsetof(LowCmd, wireless_remote) == 748 && offsetof(LowCmd, gpio) == 802, "LowCmd offsets");
_Static_assert(offsetof(LowCmd, reserve) == 804 && offsetof(LowCmd, crc) == 808, "LowCmd offsets");
_Static_assert(sizeof(unitree_go_msg_dds__MotorCmd_) == 36, "MotorCmd is 36 bytes");
_Static_assert(sizeof(LowState) == 1180, "LowState is 1180 bytes");
_Static_assert(offsetof(LowState, imu_state) == 24 && offsetof(LowState, motor_state) == 80, "LowState offsets");
_Static_assert(offsetof(LowState, bms_state) == 1040 && offsetof(LowState, foot_force) == 1084, "LowState offsets");
_Static_assert(offsetof(LowState, tick) == 1100 && offsetof(LowState, wireless_remote) == 1104, "LowState offsets");
_Static_assert(offsetof(LowState, adc_reel) == 1148 && offsetof(LowState, power_v) == 1156, "LowState offsets");
_Static_assert(offsetof(LowState, fan_frequency) == 1164 && offsetof(LowState, crc) == 1176, "LowState offsets");
_Static_assert(sizeof(unitree_go_msg_dds__MotorState_) == 48 && sizeof(unitree_go_msg_dds__IMUState_) == 56, "state sizes");
_Static_assert(sizeof(Wireless) == 20 && offsetof(Wireless, keys) == 16, "WirelessController layout");

typedef struct {
  const char *name;
  const dds_topic_descriptor_t *desc;
  size_t size;
} MsgType;

static const MsgType TYPES[] = {
    {"LowCmd", &unitree_go_msg_dds__LowCmd__desc, sizeof(LowCmd)},
    {"LowState", &unitree_go_msg_dds__LowState__desc, sizeof(LowState)},
    {"WirelessController", &unitree_go_msg_dds__WirelessController__desc, sizeof(Wireless)},
};
#define MAX_SAMPLE 1184 /* the largest type, rounded up to 8 */
#define TAKE_BATCH 16

// ---- helpers ------------------------------------------------------------------------------------------

#define CHECK(env, call)                                      \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      napi_throw_error((env), NULL, "node-api call failed: " #call); \
      return NULL;                                            \
    }                                                         \
  } while (0)

static napi_value throw_dds(napi_env env, const char *what, dds_return_t rc) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s (%d)", what, dds_strretcode(rc), (int)rc);
  napi_throw_error(env, "DDS_ERROR", msg);
  return NULL;
}

static const MsgType *type_by_name(napi_env env, napi_value v) {
  char name[64];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, name, sizeof name, &len) != napi_ok) return NULL;
  for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
    if (strcmp(TYPES[i].name, name) == 0) return &TYPES[i];
  return NULL;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

static int get_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  if (napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) != napi_ok || t != napi_uint8_array) return 0;
  return 1;
}

static napi_value num(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

// QoS of every entity here: keep-last `depth`, volatile, reliable or best effort; writers never wait.
static dds_qos_t *make_qos(bool reliable, int32_t depth) {
  dds_qos_t *q = dds_create_qos();
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, depth < 1 ? 1 : depth);
  dds_qset_durability(q, DDS_DURABILITY_VOLATILE);
  dds_qset_reliability(q, reliable ? DDS_RELIABILITY_RELIABLE : DDS_RELIABILITY_BEST_EFFORT, 0);
  return q;
}

// args: participant, topic name, type name, reliable, depth
static int entity_args(napi_env env, napi_value *argv, dds_entity_t *pp, dds_entity_t *topic, const MsgType **type, dds_qos_t **qos) {
  int32_t p, depth;
  char name[256];
  size_t len;
  bool reliable;
  if (!get_i32(env, argv[0], &p) || napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok ||
      napi_get_value_bool(env, argv[3], &reliable) != napi_ok || !get_i32(env, argv[4], &depth)) {
    napi_throw_type_error(env, NULL, "expected (participant, topic, type, reliable, depth)");
    return 0;
  }
  if (!(*type = type_by_name(env, argv[2]))) {
    napi_throw_type_error(env, NULL, "unknown type (LowCmd, LowState, WirelessController)");
    return 0;
  }
  *pp = p;
  *topic = dds_create_topic(p, (*type)->desc, name, NULL, NULL);
  if (*topic < 0) {
    throw_dds(env, "dds_create_topic", *topic);
    return 0;
  }
  *qos = make_qos(reliable, depth);
  return 1;
}

// ---- participant --------------------------------------------------------------------------------------

// createParticipant(domainId, configXml | null): a domain configured from the XML when given (the
// interface), else from CYCLONEDDS_URI as usual.
static napi_value create_participant(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t domain;
  if (argc < 1 || !get_i32(env, argv[0], &domain) || domain < 0 || domain > 232) {
    napi_throw_range_error(env, NULL, "domain id must be an integer in 0..232");
    return NULL;
  }
  napi_valuetype t = napi_undefined;
  if (argc > 1) napi_typeof(env, argv[1], &t);
  if (t == napi_string) {
    size_t len;
    CHECK(env, napi_get_value_string_utf8(env, argv[1], NULL, 0, &len));
    char *xml = malloc(len + 1);
    napi_get_value_string_utf8(env, argv[1], xml, len + 1, &len);
    dds_entity_t d = dds_create_domain((dds_domainid_t)domain, xml);
    free(xml);
    // An existing domain of this id (a second participant in this process) keeps its configuration.
    if (d < 0 && d != DDS_RETCODE_PRECONDITION_NOT_MET) return throw_dds(env, "dds_create_domain (check the XML and the interface name)", d);
  }
  dds_entity_t pp = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
  if (pp < 0) return throw_dds(env, "dds_create_participant", pp);
  return num(env, pp);
}

// ---- writers ------------------------------------------------------------------------------------------

// Writer sizes by handle, so write() can check the byte count without a JS-side table.
#define MAX_WRITERS 64
static struct {
  dds_entity_t handle;
  size_t size;
} writers[MAX_WRITERS];
static pthread_mutex_t writers_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t writer_size(dds_entity_t w) {
  size_t s = 0;
  pthread_mutex_lock(&writers_lock);
  for (int i = 0; i < MAX_WRITERS; i++)
    if (writers[i].handle == w) s = writers[i].size;
  pthread_mutex_unlock(&writers_lock);
  return s;
}

static napi_value create_writer(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  dds_entity_t pp, topic;
  const MsgType *type;
  dds_qos_t *qos;
  if (argc < 5 || !entity_args(env, argv, &pp, &topic, &type, &qos)) return NULL;
  dds_entity_t w = dds_create_writer(pp, topic, qos, NULL);
  dds_delete_qos(qos);
  if (w < 0) return throw_dds(env, "dds_create_writer", w);
  pthread_mutex_lock(&writers_lock);
  int slot = -1;
  for (int i = 0; i < MAX_WRITERS && slot < 0; i++)
    if (writers[i].handle == 0) slot = i;
  if (slot >= 0) writers[slot].handle = w, writers[slot].size = type->size;
  pthread_mutex_unlock(&writers_lock);
  if (slot < 0) {
    dds_delete(w);
    napi_throw_error(env, NULL, "too many DDS writers");
    return NULL;
  }
  return num(env, w);
}

// write(writer, bytes): one sample, the bytes of its C struct. Copied to aligned memory first.
static napi_value write_sample(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t w;
  void *data;
  size_t len;
  if (argc < 2 || !get_i32(env, argv[0], &w) || !get_bytes(env, argv[1], &data, &len)) {
    napi_throw_type_error(env, NULL, "expected (writer, Uint8Array)");
    return NULL;
  }
  size_t size = writer_size(w);
  if (size == 0 || len != size) {
    napi_throw_range_error(env, NULL, size == 0 ? "not a writer of this binding" : "sample size does not match the writer's type");
    return NULL;
  }
  _Alignas(8) unsigned char sample[MAX_SAMPLE];
  memcpy(sample, data, len);
  dds_return_t rc = dds_write(w, sample);
  if (rc < 0) return throw_dds(env, "dds_write", rc);
  return NULL;
}

// ---- readers ------------------------------------------------------------------------------------------

typedef struct Reader {
  dds_entity_t handle;
  size_t size;
  napi_threadsafe_function tsfn;
  atomic_int pending; // a wake-up is queued and not yet run
  atomic_int closed;
  struct Reader *next;
} Reader;

static Reader *readers = NULL; // touched on the JS thread only

static void on_data_available(dds_entity_t rd, void *arg) {
  (void)rd;
  Reader *r = arg;
  // Runs on a DDS thread: never wait here. One queued wake-up covers any number of samples.
  if (!atomic_load(&r->closed) && atomic_exchange(&r->pending, 1) == 0)
    napi_call_threadsafe_function(r->tsfn, NULL, napi_tsfn_nonblocking);
}

// On the JS thread: take everything there is and hand each valid sample to the callback as a Buffer.
static void deliver(napi_env env, napi_value callback, void *context, void *data) {
  (void)data;
  Reader *r = context;
  atomic_store(&r->pending, 0);
  if (env == NULL || atomic_load(&r->closed)) return;
  _Alignas(8) unsigned char buf[TAKE_BATCH][MAX_SAMPLE];
  void *ptrs[TAKE_BATCH];
  dds_sample_info_t infos[TAKE_BATCH];
  for (int i = 0; i < TAKE_BATCH; i++) ptrs[i] = buf[i];
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (;;) {
    dds_return_t n = dds_take(r->handle, ptrs, infos, TAKE_BATCH, TAKE_BATCH);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) {
      if (!infos[i].valid_data) continue;
      napi_value bytes, argv[2];
      void *copy;
      if (napi_create_buffer_copy(env, r->size, buf[i], &copy, &bytes) != napi_ok) return;
      argv[0] = bytes;
      argv[1] = num(env, (double)infos[i].source_timestamp / 1e6); // ms, the writer's wall clock
      napi_call_function(env, undefined, callback, 2, argv, NULL);
      bool pending_exception = false;
      napi_is_exception_pending(env, &pending_exception);
      if (pending_exception) return; // reported by Node as an uncaught exception
      if (atomic_load(&r->closed)) return;
    }
    if (n < TAKE_BATCH) break;
  }
}

static void reader_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  free(data);
}

// createReader(participant, topic, type, reliable, depth, callback(bytes, sourceTimeMs))
static napi_value create_reader(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t = napi_undefined;
  if (argc == 6) napi_typeof(env, argv[5], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, NULL, "expected (participant, topic, type, reliable, depth, callback)");
    return NULL;
  }
  dds_entity_t pp, topic;
  const MsgType *type;
  dds_qos_t *qos;
  if (!entity_args(env, argv, &pp, &topic, &type, &qos)) return NULL;
  Reader *r = calloc(1, sizeof *r);
  r->size = type->size;
  napi_value name;
  napi_create_string_utf8(env, "dds-reader", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[5], NULL, name, 0, 1, r, reader_finalize, r, deliver, &r->tsfn) != napi_ok) {
    free(r);
    dds_delete_qos(qos);
    napi_throw_error(env, NULL, "napi_create_threadsafe_function failed");
    return NULL;
  }
  // A reader alone does not keep the process alive: whoever owns it keeps its own timers.
  napi_unref_threadsafe_function(env, r->tsfn);
  dds_listener_t *l = dds_create_listener(r);
  dds_lset_data_available(l, on_data_available);
  dds_entity_t rd = dds_create_reader(pp, topic, qos, l);
  dds_delete_listener(l);
  dds_delete_qos(qos);
  if (rd < 0) {
    atomic_store(&r->closed, 1);
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    return throw_dds(env, "dds_create_reader", rd);
  }
  r->handle = rd;
  r->next = readers;
  readers = r;
  return num(env, rd);
}

// ---- repeater -----------------------------------------------------------------------------------------

typedef struct {
  dds_entity_t writer;
  size_t size;
  int64_t period_ns, max_age_ns;
  pthread_t thread;
  pthread_mutex_t lock;
  _Alignas(8) unsigned char command[MAX_SAMPLE];
  _Alignas(8) unsigned char damping[MAX_SAMPLE];
  int64_t command_at; // CLOCK_MONOTONIC ns of the latest command; 0: none yet
  atomic_int stop;
  // Statistics since start (read by stats()): writes, damping writes, failed writes, intervals.
  uint64_t writes, stale, errors;
  double sum_dt, sum_dt2, max_dt;
  int64_t last_write;
  int realtime; // SCHED_FIFO granted
} Repeater;

static Repeater *repeater = NULL; // one per process: one robot, one command stream

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *repeat_loop(void *arg) {
  Repeater *rp = arg;
  _Alignas(8) unsigned char sample[MAX_SAMPLE];
  // Real-time priority where allowed (root, CAP_SYS_NICE, rtprio limits): the stream then keeps its rate on
  // a loaded machine. Without it the thread runs as any other.
  struct sched_param sp = {.sched_priority = 80};
  rp->realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!atomic_load(&rp->stop)) {
    int64_t ns = (int64_t)next.tv_nsec + rp->period_ns;
    next.tv_sec += ns / 1000000000;
    next.tv_nsec = ns % 1000000000;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {}
    if (atomic_load(&rp->stop)) break;
    int64_t t = now_ns();
    // A late period is not caught up: the next deadline is one period after this one, as the robot's.
    int64_t due = (int64_t)next.tv_sec * 1000000000 + next.tv_nsec;
    if (t - due > rp->period_ns) {
      next.tv_sec = t / 1000000000;
      next.tv_nsec = t % 1000000000;
    }
    pthread_mutex_lock(&rp->lock);
    int have = rp->command_at != 0;
    int stale = have && t - rp->command_at > rp->max_age_ns;
    if (have) memcpy(sample, stale ? rp->damping : rp->command, rp->size);
    pthread_mutex_unlock(&rp->lock);
    if (!have) continue;
    dds_return_t rc = dds_write(rp->writer, sample);
    pthread_mutex_lock(&rp->lock);
    if (rc < 0) rp->errors++;
    else {
      rp->writes++;
      if (stale) rp->stale++;
      if (rp->last_write) {
        double dt = (double)(t - rp->last_write) / 1e6;
        rp->sum_dt += dt, rp->sum_dt2 += dt * dt;
        if (dt > rp->max_dt) rp->max_dt = dt;
      }
      rp->last_write = t;
    }
    pthread_mutex_unlock(&rp->lock);
  }
  return NULL;
}

// startRepeater(writer, hz, maxAgeMs)
static napi_value start_repeater(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t w;
  double hz, max_age_ms;
  if (argc < 3 || !get_i32(env, argv[0], &w) || napi_get_value_double(env, argv[1], &hz) != napi_ok ||
      napi_get_value_double(env, argv[2], &max_age_ms) != napi_ok || !(hz > 0 && hz <= 2000) || !(max_age_ms > 0)) {
    napi_throw_range_error(env, NULL, "expected (writer, hz in (0, 2000], maxAgeMs > 0)");
    return NULL;
  }
  if (repeater) {
    napi_throw_error(env, NULL, "a repeater is already running in this process");
    return NULL;
  }
  size_t size = writer_size(w);
  if (!size) {
    napi_throw_range_error(env, NULL, "not a writer of this binding");
    return NULL;
  }
  Repeater *rp = calloc(1, sizeof *rp);
  rp->writer = w, rp->size = size;
  rp->period_ns = (int64_t)(1e9 / hz);
  rp->max_age_ns = (int64_t)(max_age_ms * 1e6);
  pthread_mutex_init(&rp->lock, NULL);
  if (pthread_create(&rp->thread, NULL, repeat_loop, rp) != 0) {
    free(rp);
    napi_throw_error(env, NULL, "cannot start the repeater thread");
    return NULL;
  }
  repeater = rp;
  return NULL;
}

// setRepeated(command, damping): what the repeater sends from now on, and what it falls back to.
static napi_value set_repeated(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *cmd, *damp;
  size_t lc, ld;
  if (!repeater) {
    napi_throw_error(env, NULL, "no repeater running");
    return NULL;
  }
  if (argc < 2 || !get_bytes(env, argv[0], &cmd, &lc) || !get_bytes(env, argv[1], &damp, &ld) || lc != repeater->size || ld != repeater->size) {
    napi_throw_type_error(env, NULL, "expected (command, damping): two samples of the repeater's type");
    return NULL;
  }
  pthread_mutex_lock(&repeater->lock);
  memcpy(repeater->command, cmd, lc);
  memcpy(repeater->damping, damp, ld);
  repeater->command_at = now_ns();
  pthread_mutex_unlock(&repeater->lock);
  return NULL;
}

static napi_value stop_repeater(napi_env env, napi_callback_info info) {
  (void)info;
  if (!repeater) return NULL;
  atomic_store(&repeater->stop, 1);
  pthread_join(repeater->thread, NULL);
  pthread_mutex_destroy(&repeater->lock);
  free(repeater);
  repeater = NULL;
  (void)env;
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *key, double x) { napi_set_named_property(env, obj, key, num(env, x)); }

// repeaterStats(): {writes, stale, errors, meanIntervalMs, stdIntervalMs, maxIntervalMs} or null.
static napi_value repeater_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  if (!repeater) {
    napi_get_null(env, &out);
    return out;
  }
  napi_create_object(env, &out);
  pthread_mutex_lock(&repeater->lock);
  uint64_t n = repeater->writes > 1 ? repeater->writes - 1 : 0;
  double mean = n ? repeater->sum_dt / n : 0, var = n ? repeater->sum_dt2 / n - mean * mean : 0;
  set_num(env, out, "writes", (double)repeater->writes);
  set_num(env, out, "stale", (double)repeater->stale);
  set_num(env, out, "errors", (double)repeater->errors);
  set_num(env, out, "meanIntervalMs", mean);
  set_num(env, out, "stdIntervalMs", var > 0 ? sqrt(var) : 0);
  set_num(env, out, "maxIntervalMs", repeater->max_dt);
  napi_value rt;
  napi_get_boolean(env, repeater->realtime, &rt);
  napi_set_named_property(env, out, "realtime", rt);
  pthread_mutex_unlock(&repeater->lock);
  return out;
}

// ---- entities -----------------------------------------------------------------------------------------

// matched(entity): for a writer the readers it reaches, for a reader the writers it hears.
static napi_value matched(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t e;
  if (argc < 1 || !get_i32(env, argv[0], &e)) {
    napi_throw_type_error(env, NULL, "expected (entity)");
    return NULL;
  }
  if (writer_size(e)) {
    dds_publication_matched_status_t s;
    dds_return_t rc = dds_get_publication_matched_status(e, &s);
    if (rc < 0) return throw_dds(env, "dds_get_publication_matched_status", rc);
    return num(env, s.current_count);
  }
  dds_subscription_matched_status_t s;
  dds_return_t rc = dds_get_subscription_matched_status(e, &s);
  if (rc < 0) return throw_dds(env, "dds_get_subscription_matched_status", rc);
  return num(env, s.current_count);
}

// close(entity): deletes it (and its children); a reader's wake-ups stop first.
static napi_value close_entity(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t e;
  if (argc < 1 || !get_i32(env, argv[0], &e)) {
    napi_throw_type_error(env, NULL, "expected (entity)");
    return NULL;
  }
  if (repeater && repeater->writer == e) stop_repeater(env, info);
  dds_entity_t participant = dds_get_participant(e);
  // Readers of this entity (itself, or children of a participant being deleted).
  for (Reader **p = &readers; *p;) {
    Reader *r = *p;
    if (r->handle == e || (participant == e && dds_get_participant(r->handle) == e)) {
      atomic_store(&r->closed, 1);
      dds_delete(r->handle); // waits for a listener call in progress
      napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
      *p = r->next;
    } else
      p = &r->next;
  }
  pthread_mutex_lock(&writers_lock);
  for (int i = 0; i < MAX_WRITERS; i++)
    if (writers[i].handle && (writers[i].handle == e || (participant == e && dds_get_participant(writers[i].handle) == e))) writers[i].handle = 0;
  pthread_mutex_unlock(&writers_lock);
  if (repeater && dds_get_participant(repeater->writer) == e) stop_repeater(env, info);
  dds_return_t rc = dds_delete(e);
  if (rc < 0 && rc != DDS_RETCODE_BAD_PARAMETER && rc != DDS_RETCODE_ALREADY_DELETED) return throw_dds(env, "dds_delete", rc);
  return NULL;
}

// layout(): sizes and offsets the TypeScript side checks its packing against.
static napi_value layout(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, lc, ls, wc;
  napi_create_object(env, &out);
  napi_create_object(env, &lc);
  napi_create_object(env, &ls);
  napi_create_object(env, &wc);
  set_num(env, lc, "size", sizeof(LowCmd));
  set_num(env, lc, "motor_cmd", offsetof(LowCmd, motor_cmd));
  set_num(env, lc, "bms_cmd", offsetof(LowCmd, bms_cmd));
  set_num(env, lc, "wireless_remote", offsetof(LowCmd, wireless_remote));
  set_num(env, lc, "crc", offsetof(LowCmd, crc));
  set_num(env, ls, "size", sizeof(LowState));
  set_num(env, ls, "imu_state", offsetof(LowState, imu_state));
  set_num(env, ls, "motor_state", offsetof(LowState, motor_state));
  set_num(env, ls, "motor_state_size", sizeof(unitree_go_msg_dds__MotorState_));
  set_num(env, ls, "bms_state", offsetof(LowState, bms_state));
  set_num(env, ls, "foot_force", offsetof(LowState, foot_force));
  set_num(env, ls, "tick", offsetof(LowState, tick));
  set_num(env, ls, "wireless_remote", offsetof(LowState, wireless_remote));
  set_num(env, ls, "power_v", offsetof(LowState, power_v));
  set_num(env, ls, "crc", offsetof(LowState, crc));
  set_num(env, wc, "size", sizeof(Wireless));
  set_num(env, wc, "keys", offsetof(Wireless, keys));
  napi_set_named_property(env, out, "LowCmd", lc);
  napi_set_named_property(env, out, "LowState", ls);
  napi_set_named_property(env, out, "WirelessController", wc);
  return out;
}

static napi_value type_names(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_object(env, &out);
  for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
    napi_value s;
    napi_create_string_utf8(env, TYPES[i].desc->m_typename, NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, out, TYPES[i].name, s);
  }
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"createParticipant", NULL, create_participant, NULL, NULL, NULL, napi_default, NULL},
      {"createWriter", NULL, create_writer, NULL, NULL, NULL, napi_default, NULL},
      {"createReader", NULL, create_reader, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, write_sample, NULL, NULL, NULL, napi_default, NULL},
      {"matched", NULL, matched, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_entity, NULL, NULL, NULL, napi_default, NULL},
      {"startRepeater", NULL, start_repeater, NULL, NULL, NULL, napi_default, NULL},
      {"setRepeated", NULL, set_repeated, NULL, NULL, NULL, napi_default, NULL},
      {"stopRepeater", NULL, stop_repeater, NULL, NULL, NULL, napi_default, NULL},
      {"repeaterStats", NULL, repeater_stats, NULL, NULL, NULL, napi_default, NULL},
      {"layout", NULL, layout, NULL, NULL, NULL, napi_default, NULL},
      {"typeNames", NULL, type_names, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value v;
  napi_create_string_utf8(env, DDS_VERSION, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, exports, "ddsVersion", v);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
