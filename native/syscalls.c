// Caisson's system calls: mount(2), umount2(2) and the pinning of a pod's namespaces, for the
// daemon to make without starting a program for each (on a busy node every exec of mount,
// umount or unshare costs milliseconds; the call itself costs microseconds).
//
// Every call runs off the JavaScript thread (N-API async work, in libuv's thread pool) and
// answers with a promise. Work that changes the calling thread's state (a working folder of its
// own, new namespaces) runs in a thread made for it and ended after it, so no thread of the
// daemon's is ever left in another namespace.
//
// Built by scripts/build-native.sh; loaded by core/syscalls/native-addon.ts, which falls back
// to the programs when this is not built.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

enum op_kind { OP_MOUNT, OP_UMOUNT, OP_PIN };

#define MAX_SYSCTLS 256

// One call: its arguments, copied out of JavaScript, and its outcome.
struct op {
  enum op_kind kind;
  // mount and umount
  char *source, *target, *fstype, *data, *cwd;
  unsigned long flags;
  // pin: CLONE_NEW* flags, and the file each new namespace is bound to (net, ipc, uts)
  int clone_flags;
  char *net_file, *ipc_file, *uts_file, *hostname;
  int loopback_up;
  char *sysctls[MAX_SYSCTLS * 2];
  size_t sysctl_words;
  // outcome: errno of the step that failed, and which step
  int error;
  char step[512];
  napi_deferred deferred;
  napi_async_work work;
};

static int fail(struct op *op, const char *format, const char *what) {
  op->error = errno ? errno : EIO;
  snprintf(op->step, sizeof op->step, format, what ? what : "");
  return -1;
}

static int write_file(struct op *op, const char *file, const char *value) {
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(op, "open %s", file);
  size_t length = strlen(value);
  ssize_t written = write(fd, value, length);
  int saved = errno;
  close(fd);
  errno = saved;
  if (written != (ssize_t)length) return fail(op, "write %s", file);
  return 0;
}

static int bring_loopback_up(struct op *op) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(op, "socket for %s", "lo");
  struct ifreq request;
  memset(&request, 0, sizeof request);
  strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  int result = ioctl(fd, SIOCGIFFLAGS, &request);
  if (result == 0) {
    request.ifr_flags |= IFF_UP;
    result = ioctl(fd, SIOCSIFFLAGS, &request);
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return result == 0 ? 0 : fail(op, "bring %s up", "lo");
}

static int bind_namespace(struct op *op, const char *name, const char *file) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/ns/%s", (long)syscall(SYS_gettid), name);
  if (mount(path, file, NULL, MS_BIND, NULL) != 0) return fail(op, "bind the namespace to %s", file);
  return 0;
}

// In a thread of its own: new namespaces for this thread only (net, IPC and UTS are per
// thread), set up from inside them, then bound to files so they outlive the thread.
static void pin(struct op *op) {
  errno = 0;
  if (unshare(op->clone_flags) != 0) { fail(op, "unshare%s", ""); return; }
  if ((op->clone_flags & CLONE_NEWUTS) && op->hostname[0] != '\0' && sethostname(op->hostname, strlen(op->hostname)) != 0) {
    fail(op, "set the hostname %s", op->hostname);
    return;
  }
  if ((op->clone_flags & CLONE_NEWNET) && op->loopback_up && bring_loopback_up(op) != 0) return;
  // /proc/sys resolves a file by the namespaces of the thread that opens it: these are ours.
  for (size_t i = 0; i + 1 < op->sysctl_words; i += 2)
    if (write_file(op, op->sysctls[i], op->sysctls[i + 1]) != 0) return;
  if ((op->clone_flags & CLONE_NEWNET) && bind_namespace(op, "net", op->net_file) != 0) return;
  if ((op->clone_flags & CLONE_NEWIPC) && bind_namespace(op, "ipc", op->ipc_file) != 0) return;
  if ((op->clone_flags & CLONE_NEWUTS) && bind_namespace(op, "uts", op->uts_file) != 0) return;
}

static void do_mount(struct op *op) {
  errno = 0;
  // Relative paths in the options (overlay's short lower links) resolve from cwd: this thread
  // gets a working folder of its own, so the daemon's stays as it is.
  if (op->cwd[0] != '\0') {
    if (unshare(CLONE_FS) != 0) { fail(op, "unshare the working folder for %s", op->target); return; }
    if (chdir(op->cwd) != 0) { fail(op, "chdir %s", op->cwd); return; }
  }
  const char *data = op->data[0] != '\0' ? op->data : NULL;
  if (mount(op->source, op->target, op->fstype, op->flags, data) != 0) fail(op, "mount %s", op->target);
}

static void *run_in_own_thread(void *argument) {
  struct op *op = argument;
  if (op->kind == OP_PIN) pin(op);
  else do_mount(op);
  return NULL;
}

static void execute(napi_env env, void *data) {
  (void)env;
  struct op *op = data;
  if (op->kind == OP_UMOUNT) {
    errno = 0;
    if (umount2(op->target, (int)op->flags) != 0) fail(op, "umount %s", op->target);
    return;
  }
  if (op->kind == OP_MOUNT && op->cwd[0] == '\0') { do_mount(op); return; }
  pthread_t thread;
  int error = pthread_create(&thread, NULL, run_in_own_thread, op);
  if (error != 0) { errno = error; fail(op, "start a thread for %s", "the call"); return; }
  pthread_join(thread, NULL);
}

static void free_op(struct op *op) {
  char *strings[] = {op->source, op->target, op->fstype, op->data, op->cwd, op->net_file, op->ipc_file, op->uts_file, op->hostname};
  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) free(strings[i]);
  for (size_t i = 0; i < op->sysctl_words; i++) free(op->sysctls[i]);
  free(op);
}

static void complete(napi_env env, napi_status status, void *data) {
  struct op *op = data;
  if (status == napi_ok && op->error == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, op->deferred, undefined);
  } else {
    int error = op->error ? op->error : ECANCELED;
    char text[700];
    snprintf(text, sizeof text, "%s: %s", op->step[0] ? op->step : "the call", strerror(error));
    const char *name = strerrorname_np(error);
    napi_value message, code, number, reason;
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
    napi_create_string_utf8(env, name ? name : "EIO", NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, message, &reason);
    napi_create_int32(env, error, &number);
    napi_set_named_property(env, reason, "errno", number);
    napi_reject_deferred(env, op->deferred, reason);
  }
  napi_delete_async_work(env, op->work);
  free_op(op);
}

// Copies a JavaScript string argument; NULL (with a TypeError thrown) when it is not one.
static char *string_argument(napi_env env, napi_value value, const char *name) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    char text[96];
    snprintf(text, sizeof text, "%s must be a string", name);
    napi_throw_type_error(env, NULL, text);
    return NULL;
  }
  char *copy = malloc(length + 1);
  if (copy == NULL) return NULL;
  napi_get_value_string_utf8(env, value, copy, length + 1, &length);
  if (strlen(copy) != length) {  // a NUL inside would cut the path short
    free(copy);
    char text[96];
    snprintf(text, sizeof text, "%s holds a NUL byte", name);
    napi_throw_type_error(env, NULL, text);
    return NULL;
  }
  return copy;
}

static napi_value queue(napi_env env, struct op *op) {
  napi_value promise, name;
  napi_create_promise(env, &op->deferred, &promise);
  napi_create_string_utf8(env, "caisson-syscall", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, op, &op->work);
  napi_queue_async_work(env, op->work);
  return promise;
}

static struct op *new_op(enum op_kind kind) {
  struct op *op = calloc(1, sizeof *op);
  if (op != NULL) op->kind = kind;
  return op;
}

static int number_argument(napi_env env, napi_value value, const char *name, int64_t *out) {
  if (napi_get_value_int64(env, value, out) == napi_ok) return 0;
  char text[96];
  snprintf(text, sizeof text, "%s must be a number", name);
  napi_throw_type_error(env, NULL, text);
  return -1;
}

// The arguments of one call, and the op that will carry them; NULL (with a TypeError thrown)
// when fewer than `count` were given.
static struct op *begin(napi_env env, napi_callback_info info, enum op_kind kind, size_t count, napi_value *argv, const char *usage) {
  size_t given = count;
  napi_get_cb_info(env, info, &given, argv, NULL, NULL);
  if (given < count) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  struct op *op = new_op(kind);
  if (op == NULL) napi_throw_error(env, "ENOMEM", "out of memory");
  return op;
}

// Gives up on a call whose arguments were refused: frees what was copied and makes sure the
// caller sees an exception.
static napi_value abandon(napi_env env, struct op *op, const char *usage) {
  if (op != NULL) free_op(op);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_type_error(env, NULL, usage);
  return NULL;
}

static const char MOUNT_USAGE[] = "mount(source, target, fstype, flags, data, cwd)";

// cwd '' leaves the working folder alone.
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  struct op *op = begin(env, info, OP_MOUNT, 6, argv, MOUNT_USAGE);
  int64_t flags;
  if (op == NULL || !(op->source = string_argument(env, argv[0], "source")) || !(op->target = string_argument(env, argv[1], "target")) ||
      !(op->fstype = string_argument(env, argv[2], "fstype")) || number_argument(env, argv[3], "flags", &flags) != 0 ||
      !(op->data = string_argument(env, argv[4], "data")) || !(op->cwd = string_argument(env, argv[5], "cwd")))
    return abandon(env, op, MOUNT_USAGE);
  op->flags = (unsigned long)flags;
  return queue(env, op);
}

static const char UMOUNT_USAGE[] = "umount(target, flags)";

static napi_value js_umount(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct op *op = begin(env, info, OP_UMOUNT, 2, argv, UMOUNT_USAGE);
  int64_t flags;
  if (op == NULL || !(op->target = string_argument(env, argv[0], "target")) || number_argument(env, argv[1], "flags", &flags) != 0)
    return abandon(env, op, UMOUNT_USAGE);
  op->flags = (unsigned long)flags;
  return queue(env, op);
}

static const char PIN_USAGE[] = "pinNamespaces(netFile, ipcFile, utsFile, hostname, loopbackUp, sysctls): sysctls is an array of file, value pairs";

// A '' file leaves that namespace the caller's; sysctls alternate /proc/sys file and value.
static napi_value js_pin(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  struct op *op = begin(env, info, OP_PIN, 6, argv, PIN_USAGE);
  bool loopback = false;
  uint32_t words = 0;
  if (op == NULL || !(op->net_file = string_argument(env, argv[0], "netFile")) || !(op->ipc_file = string_argument(env, argv[1], "ipcFile")) ||
      !(op->uts_file = string_argument(env, argv[2], "utsFile")) || !(op->hostname = string_argument(env, argv[3], "hostname")) ||
      napi_get_value_bool(env, argv[4], &loopback) != napi_ok || napi_get_array_length(env, argv[5], &words) != napi_ok ||
      words % 2 != 0 || words > MAX_SYSCTLS * 2)
    return abandon(env, op, PIN_USAGE);
  op->loopback_up = loopback;
  for (uint32_t i = 0; i < words; i++) {
    napi_value word;
    napi_get_element(env, argv[5], i, &word);
    if (!(op->sysctls[i] = string_argument(env, word, "sysctl"))) return abandon(env, op, PIN_USAGE);
    op->sysctl_words = i + 1;
  }
  op->clone_flags = (op->net_file[0] ? CLONE_NEWNET : 0) | (op->ipc_file[0] ? CLONE_NEWIPC : 0) | (op->uts_file[0] ? CLONE_NEWUTS : 0);
  return queue(env, op);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL},
      {"umount", NULL, js_umount, NULL, NULL, NULL, napi_default, NULL},
      {"pinNamespaces", NULL, js_pin, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
