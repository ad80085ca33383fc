// podwire native: AF_PACKET sockets with batched I/O.
//
// Why this exists: no maintained npm package opens AF_PACKET, and the cost of
// a userspace dataplane is dominated by JS<->kernel crossings. So every call
// here moves a *batch* of frames (recvmmsg/sendmmsg), and sends take
// scatter-gather descriptors so the pipeline can encapsulate, decapsulate and
// segment without copying payload bytes in JavaScript.
//
// Sockets are opened with PACKET_VNET_HDR: every frame is preceded by a
// 10-byte virtio_net_hdr. That is how the kernel tells us a frame is a GSO
// super-frame (a 64 KiB TCP send from a pod with TSO) or carries a partial
// checksum (tx checksum offload), and how we hand such frames back to it.
//
// This module holds no packet logic: parsing, routing and rewriting are in
// TypeScript (src/dataplane, src/packet).

#include <napi.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <time.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include <vector>

namespace {

constexpr int kMaxBatch = 1024;
constexpr int kMaxIovTotal = 8192;

Napi::Error ErrnoError(Napi::Env env, const char* what, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(what) + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, what));
  return e;
}

int SetIntOpt(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof(value));
}

// open(ifname, {vnetHdr, ignoreOutgoing, qdiscBypass, promiscuous, rcvbufBytes,
//               sndbufBytes, filter: Buffer of struct sock_filter})
//   -> {fd, ifindex, mac: Buffer}
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
    Napi::TypeError::New(env, "open(ifname: string, options: object)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string ifname = info[0].As<Napi::String>().Utf8Value();
  Napi::Object opts = info[1].As<Napi::Object>();
  auto flag = [&](const char* k) { return opts.Has(k) && opts.Get(k).ToBoolean().Value(); };
  auto num = [&](const char* k) {
    return opts.Has(k) && opts.Get(k).IsNumber() ? opts.Get(k).As<Napi::Number>().Int32Value() : 0;
  };

  // "" binds to every interface of the namespace (sll_ifindex then says which one a frame was on)
  const bool everyInterface = ifname.empty();
  unsigned ifindex = everyInterface ? 0 : if_nametoindex(ifname.c_str());
  if (ifindex == 0 && !everyInterface) {
    ErrnoError(env, "if_nametoindex", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Protocol 0 first: the socket receives nothing until bind(), so no frame
  // slips in before the filter is attached.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ErrnoError(env, "socket", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto fail = [&](const char* what) {
    int err = errno;
    close(fd);
    ErrnoError(env, what, err).ThrowAsJavaScriptException();
    return env.Undefined();
  };
  if (flag("vnetHdr") && SetIntOpt(fd, SOL_PACKET, PACKET_VNET_HDR, 1) < 0) return fail("PACKET_VNET_HDR");
  if (flag("ignoreOutgoing") && SetIntOpt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1) < 0)
    return fail("PACKET_IGNORE_OUTGOING");
  if (flag("qdiscBypass") && SetIntOpt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1) < 0) return fail("PACKET_QDISC_BYPASS");
  // Captures want the kernel's receive time of each frame, not when we read the batch.
  if (flag("timestamps") && SetIntOpt(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) < 0) return fail("SO_TIMESTAMPNS");
  if (num("rcvbufBytes") > 0) {
    // RCVBUFFORCE ignores rmem_max (we are root); fall back to the capped one.
    if (SetIntOpt(fd, SOL_SOCKET, SO_RCVBUFFORCE, num("rcvbufBytes")) < 0)
      SetIntOpt(fd, SOL_SOCKET, SO_RCVBUF, num("rcvbufBytes"));
  }
  if (num("sndbufBytes") > 0) {
    if (SetIntOpt(fd, SOL_SOCKET, SO_SNDBUFFORCE, num("sndbufBytes")) < 0)
      SetIntOpt(fd, SOL_SOCKET, SO_SNDBUF, num("sndbufBytes"));
  }
  // A fanout member must be bound before it joins, and a bound socket is a
  // plain tap until then: it would see (and its agent forward) copies of the
  // frames the group's current member forwards. So it drops everything until
  // it has joined; the real filter goes on after.
  const int fanoutGroup = num("fanoutGroup");
  if (fanoutGroup > 0) {
    struct sock_filter dropAll = {0x06, 0, 0, 0};  // BPF_RET|BPF_K 0
    struct sock_fprog none = {1, &dropAll};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &none, sizeof(none)) < 0) return fail("SO_ATTACH_FILTER");
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(ifindex);
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof(sll)) < 0) return fail("bind");
  if (fanoutGroup > 0) {
    // PACKET_FANOUT_ROLLOVER: every frame goes to the group's first member
    // while it has room; the next one only gets the overflow, and all of it
    // once the first leaves. Two agents in one group hand the interface over
    // without a frame going to nobody (agent restarts, src/agent/handover.ts).
    int arg = (fanoutGroup & 0xffff) | (PACKET_FANOUT_ROLLOVER << 16);
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) return fail("PACKET_FANOUT");
    // the real filter, attached below, replaces the drop-all one; without one, none
    if (!(opts.Has("filter") && opts.Get("filter").IsBuffer()) && SetIntOpt(fd, SOL_SOCKET, SO_DETACH_FILTER, 0) < 0)
      return fail("SO_DETACH_FILTER");
  }
  if (opts.Has("filter") && opts.Get("filter").IsBuffer()) {
    Napi::Buffer<uint8_t> prog = opts.Get("filter").As<Napi::Buffer<uint8_t>>();
    if (prog.Length() % sizeof(struct sock_filter) != 0) {
      close(fd);
      Napi::TypeError::New(env, "filter length must be a multiple of 8").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    struct sock_fprog fprog;
    fprog.len = static_cast<unsigned short>(prog.Length() / sizeof(struct sock_filter));
    fprog.filter = reinterpret_cast<struct sock_filter*>(prog.Data());
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0) return fail("SO_ATTACH_FILTER");
  }
  if (fanoutGroup <= 0) {
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof(sll)) < 0) return fail("bind");
  }
  if (flag("promiscuous")) {
    struct packet_mreq mr;
    memset(&mr, 0, sizeof(mr));
    mr.mr_ifindex = static_cast<int>(ifindex);
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) return fail("PACKET_MR_PROMISC");
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (!everyInterface && ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) return fail("SIOCGIFHWADDR");

  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("ifindex", Napi::Number::New(env, ifindex));
  out.Set("mac", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(ifr.ifr_hwaddr.sa_data), 6));
  return out;
}

// recvBatch(fd, buf, slotSize, maxFrames, lengths: Uint32Array, pkttypes?: Uint8Array) -> count | -errno
// Frame i lands at buf[i*slotSize]. lengths[i] is the frame's real length:
// a value above slotSize means the frame was truncated (MSG_TRUNC).
// pkttypes[i], when asked for, is sll_pkttype (PACKET_HOST, _OUTGOING, ...): captures need the direction.
// ifindexes[i] (Uint32Array, optional, 8th argument) is sll_ifindex: the interface the frame was
// on (for a socket bound to every interface: which one).
// times[i] (Float64Array, optional, 7th argument) is the kernel's receive time in seconds since the
// epoch when the socket was opened with {timestamps: true}; 0 if none came.
Napi::Value RecvBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> buf = info[1].As<Napi::Buffer<uint8_t>>();
  size_t slot = info[2].As<Napi::Number>().Uint32Value();
  size_t max = info[3].As<Napi::Number>().Uint32Value();
  Napi::Uint32Array lengths = info[4].As<Napi::Uint32Array>();
  if (slot == 0) return Napi::Number::New(env, -EINVAL);
  if (max > kMaxBatch) max = kMaxBatch;
  if (max > buf.Length() / slot) max = buf.Length() / slot;
  if (max > lengths.ElementLength()) max = lengths.ElementLength();

  uint8_t* types = nullptr;
  if (info.Length() > 5 && info[5].IsTypedArray()) {
    Napi::Uint8Array t = info[5].As<Napi::Uint8Array>();
    types = t.Data();
    if (max > t.ElementLength()) max = t.ElementLength();
  }
  static thread_local std::vector<struct mmsghdr> msgs(kMaxBatch);
  static thread_local std::vector<struct iovec> iovs(kMaxBatch);
  static thread_local std::vector<struct sockaddr_ll> addrs(kMaxBatch);
  constexpr size_t kCtl = CMSG_SPACE(sizeof(struct timespec));
  static thread_local std::vector<char> ctl(kMaxBatch * kCtl);
  double* times = nullptr;
  if (info.Length() > 6 && info[6].IsTypedArray()) {
    Napi::Float64Array t = info[6].As<Napi::Float64Array>();
    times = t.Data();
    if (max > t.ElementLength()) max = t.ElementLength();
  }
  uint32_t* ifindexes = nullptr;
  if (info.Length() > 7 && info[7].IsTypedArray()) {
    Napi::Uint32Array t = info[7].As<Napi::Uint32Array>();
    ifindexes = t.Data();
    if (max > t.ElementLength()) max = t.ElementLength();
  }
  for (size_t i = 0; i < max; i++) {
    iovs[i].iov_base = buf.Data() + i * slot;
    iovs[i].iov_len = slot;
    memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    if (types != nullptr || ifindexes != nullptr) {
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_ll);
    }
    if (times != nullptr) {
      msgs[i].msg_hdr.msg_control = &ctl[i * kCtl];
      msgs[i].msg_hdr.msg_controllen = kCtl;
    }
  }
  int n = recvmmsg(fd, msgs.data(), static_cast<unsigned>(max), MSG_DONTWAIT | MSG_TRUNC, nullptr);
  if (n < 0) return Napi::Number::New(env, (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno);
  uint32_t* lens = lengths.Data();
  for (int i = 0; i < n; i++) lens[i] = msgs[i].msg_len;
  if (types != nullptr)
    for (int i = 0; i < n; i++) types[i] = addrs[i].sll_pkttype;
  if (ifindexes != nullptr)
    for (int i = 0; i < n; i++) ifindexes[i] = static_cast<uint32_t>(addrs[i].sll_ifindex);
  if (times != nullptr) {
    for (int i = 0; i < n; i++) {
      times[i] = 0;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof(ts));
          times[i] = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
        }
      }
    }
  }
  return Napi::Number::New(env, n);
}

// sendBatch(fd, bufA, bufB | null, desc: Uint32Array, count, out?: Uint32Array[2]) -> sent | -errno
// out[0] = frames the kernel refused (skipped), out[1] = the last refusal's errno.
// desc holds, per frame: niov, then niov triples (which: 0=A 1=B, offset, length).
// Frames are sent in order; a partial send returns how many went out.
Napi::Value SendBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> a = info[1].As<Napi::Buffer<uint8_t>>();
  uint8_t* bData[2] = {a.Data(), nullptr};
  size_t bLen[2] = {a.Length(), 0};
  if (info[2].IsBuffer()) {
    Napi::Buffer<uint8_t> b = info[2].As<Napi::Buffer<uint8_t>>();
    bData[1] = b.Data();
    bLen[1] = b.Length();
  }
  Napi::Uint32Array descArr = info[3].As<Napi::Uint32Array>();
  size_t count = info[4].As<Napi::Number>().Uint32Value();
  const uint32_t* desc = descArr.Data();
  size_t descLen = descArr.ElementLength();

  static thread_local std::vector<struct mmsghdr> msgs(kMaxBatch);
  static thread_local std::vector<struct iovec> iovs(kMaxIovTotal);
  size_t total = 0, processed = 0, p = 0;  // sent; sent + refused; desc cursor
  size_t rejected = 0;
  int lastErrno = 0;
  while (processed < count) {
    size_t n = 0, iovUsed = 0, chunkEnd = p;
    while (processed + n < count && n < kMaxBatch && chunkEnd < descLen) {
      uint32_t niov = desc[chunkEnd];
      if (niov == 0 || chunkEnd + 1 + 3 * niov > descLen) return Napi::Number::New(env, -EINVAL);
      if (iovUsed + niov > kMaxIovTotal) break;
      struct iovec* iv = &iovs[iovUsed];
      for (uint32_t k = 0; k < niov; k++) {
        const uint32_t* t = &desc[chunkEnd + 1 + 3 * k];
        uint32_t which = t[0], off = t[1], len = t[2];
        if (which > 1 || bData[which] == nullptr || static_cast<size_t>(off) + len > bLen[which])
          return Napi::Number::New(env, -EINVAL);
        iv[k].iov_base = bData[which] + off;
        iv[k].iov_len = len;
      }
      memset(&msgs[n].msg_hdr, 0, sizeof(msgs[n].msg_hdr));
      msgs[n].msg_hdr.msg_iov = iv;
      msgs[n].msg_hdr.msg_iovlen = niov;
      iovUsed += niov;
      chunkEnd += 1 + 3 * niov;
      n++;
    }
    if (n == 0) return Napi::Number::New(env, -EINVAL);
    // sendmmsg stops at the first frame the kernel refuses and reports that
    // error on the next call. A refused frame (too short for the device,
    // bad virtio header) is skipped and counted; a full queue ends the batch.
    size_t done = 0;
    bool full = false;
    while (done < n) {
      int sent = sendmmsg(fd, msgs.data() + done, static_cast<unsigned>(n - done), MSG_DONTWAIT);
      if (sent > 0) {
        done += static_cast<size_t>(sent);
        total += static_cast<size_t>(sent);
        continue;
      }
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR) {
        full = true;
        break;
      }
      rejected++;
      lastErrno = err;
      done++;
    }
    processed += done;
    if (full) break;
    p = chunkEnd;
  }
  if (info.Length() > 5 && info[5].IsTypedArray()) {
    Napi::Uint32Array out = info[5].As<Napi::Uint32Array>();
    if (out.ElementLength() >= 2) {
      out[0] = static_cast<uint32_t>(rejected);
      out[1] = static_cast<uint32_t>(lastErrno);
    }
  }
  return Napi::Number::New(env, static_cast<double>(total));
}

// stats(fd) -> {packets, drops}: PACKET_STATISTICS, which the kernel resets on read.
Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct tpacket_stats st;
  socklen_t len = sizeof(st);
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) {
    ErrnoError(env, "PACKET_STATISTICS", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("packets", Napi::Number::New(env, st.tp_packets));
  out.Set("drops", Napi::Number::New(env, st.tp_drops));
  return out;
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (fd >= 0) close(fd);
  return info.Env().Undefined();
}

// Poller: calls a JS function each time the fd turns readable, from the
// libuv loop (no threads, no thread-safe-function hop per batch).
class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poller", {InstanceMethod("stop", &Poller::Stop)});
  }
  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    int fd = info[0].As<Napi::Number>().Int32Value();
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    env_ = env;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    handle_ = new uv_poll_t;
    handle_->data = this;
    int rc = uv_poll_init_socket(loop, handle_, fd);
    if (rc == 0) rc = uv_poll_start(handle_, UV_READABLE, &Poller::OnReadable);
    if (rc != 0) {
      delete handle_;
      handle_ = nullptr;
      Napi::Error::New(env, std::string("uv_poll: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    Ref();  // stay alive while polling, even if JS drops its reference
  }
  ~Poller() override { StopPolling(); }

 private:
  static void OnReadable(uv_poll_t* h, int status, int /*events*/) {
    Poller* self = static_cast<Poller*>(h->data);
    if (self == nullptr || self->callback_.IsEmpty()) return;
    Napi::HandleScope scope(self->env_);
    Napi::Env env = self->env_;
    self->callback_.MakeCallback(env.Global(), {Napi::Number::New(env, status)});
  }
  void StopPolling() {
    if (handle_ != nullptr) {
      uv_poll_stop(handle_);
      handle_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      handle_ = nullptr;
      Unref();
    }
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }
  Napi::FunctionReference callback_;
  Napi::Env env_ = nullptr;
  uv_poll_t* handle_ = nullptr;
};

// stopTaking(fd): the smallest receive buffer (SO_RCVBUF 0, which the kernel raises to its minimum).
// A fanout member whose buffer is full has no room: rollover gives every new frame to the next
// member, and what this socket holds stays for it to read (an agent handing its node over).
Napi::Value StopTaking(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (SetIntOpt(fd, SOL_SOCKET, SO_RCVBUF, 0) < 0) {
    ErrnoError(env, "SO_RCVBUF", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return env.Undefined();
}

// ifIndex(name) -> the interface's index in this network namespace, or 0 if there is none
Napi::Value IfIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "ifIndex(name: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, if_nametoindex(info[0].As<Napi::String>().Utf8Value().c_str()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("supported", Napi::Boolean::New(env, true));
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("recvBatch", Napi::Function::New(env, RecvBatch));
  exports.Set("sendBatch", Napi::Function::New(env, SendBatch));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("ifIndex", Napi::Function::New(env, IfIndex));
  exports.Set("stopTaking", Napi::Function::New(env, StopTaking));
  exports.Set("Poller", Poller::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(podwire_native, Init)
