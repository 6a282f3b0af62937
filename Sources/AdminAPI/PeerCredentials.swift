import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Who is on the other end of an accepted admin socket connection, as the kernel saw it when the
/// peer connected (`SO_PEERCRED`, Linux socket(7) and unix(7)).
struct PeerCredentials: Sendable, Equatable {
    var pid: Int32
    var uid: uid_t
    var gid: gid_t

    /// The kernel's `struct ucred` (`pid_t pid; uid_t uid; gid_t gid;`), which Glibc exposes to
    /// Swift only with `_GNU_SOURCE`.
    private struct RawCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Reads the peer credentials of an accepted Unix-domain socket channel.
    static func of(_ channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        #if os(Linux)
            guard let provider = channel as? any SocketOptionProvider else {
                return channel.eventLoop.makeFailedFuture(PeerCredentialsUnavailable())
            }
            return provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
            ).map { (raw: RawCredentials) in
                PeerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid)
            }
        #else
            return channel.eventLoop.makeFailedFuture(PeerCredentialsUnavailable())
        #endif
    }
}

/// The channel could not report its peer's credentials.
struct PeerCredentialsUnavailable: Error, CustomStringConvertible {
    var description: String { "the peer's credentials (SO_PEERCRED) cannot be read" }
}
