import Foundation
import Logging
import ServiceDesk
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The admin socket's file: checked before binding so that only a dead socket is ever replaced,
/// given its mode and group once bound, and removed at shutdown only while it is still the one
/// this server created.
///
/// The server binds at a private `bindingPath` and links the socket into place with link(2), which
/// never replaces anything: NIO removes whatever socket sits at its bound path when it closes the
/// listener (and would replace one when binding), so it only ever learns the private path.
actor AdminSocket {
    let path: String
    /// Where the listener is bound before it is linked to `path`.
    nonisolated let bindingPath: String
    let adminGroup: AdminAccessPolicy.Group?
    /// The socket this server bound, once it did.
    private var created: FileIdentity?
    /// Why the socket could not be put in place after binding; the server stops with it.
    private(set) var failure: DeskError?
    private var services: ServiceGroup?

    /// Device and inode: what tells our socket from another one created at the same path.
    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64

        init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// What a connection attempt says about an existing socket file.
    enum Probe: Equatable {
        /// Something accepted the connection (or its backlog is full): a live server.
        case listening
        /// Nobody listens: the file is left over from a server that is gone.
        case dead
        /// The attempt failed for another reason, so we cannot tell.
        case unknown(String)
    }

    init(path: String, adminGroup: AdminAccessPolicy.Group?) {
        self.path = path
        self.bindingPath = path + ".\(getpid())"
        self.adminGroup = adminGroup
    }

    /// The service group to stop when the socket cannot be put in place.
    func attach(_ services: ServiceGroup) {
        self.services = services
    }

    /// Frees the path for binding, or throws why it will not: a path that is not a socket is
    /// never removed, nor a socket another server is listening on; a dead socket is removed.
    nonisolated func prepare() throws {
        let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        guard bindingPath.utf8.count < capacity else {
            let most = capacity - 1 - (bindingPath.utf8.count - path.utf8.count)
            throw DeskError(.invalid, "the admin socket path \(path) is too long: it may have at most \(most) bytes")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT { return }
            throw DeskError(
                .storage, "cannot inspect the admin socket path \(path): \(String(cString: strerror(code)))")
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw DeskError(
                .conflict,
                "\(path) exists and is not a socket; postdesk does not remove it (choose another --socket, or move it away)"
            )
        }
        switch Self.probe(path) {
        case .listening:
            throw DeskError(
                .conflict, "another server is listening on \(path); stop it first or choose another --socket")
        case .unknown(let reason):
            throw DeskError(.conflict, "cannot tell whether another server is listening on \(path): \(reason)")
        case .dead:
            guard unlink(path) == 0 || errno == ENOENT else {
                throw DeskError(
                    .storage,
                    "cannot remove the stale admin socket \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Connects to a Unix-domain socket without blocking to learn whether anything listens on it.
    static func probe(_ path: String) -> Probe {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return .unknown("the path is longer than \(capacity - 1) bytes") }
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            sunPath.copyBytes(from: bytes)
            sunPath[bytes.count] = 0
        }
        #if os(Linux)
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return .unknown(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        // Non-blocking, so a listener with a full backlog cannot hold up the start.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result == 0 { return .listening }
        // unix(7): EAGAIN for a non-blocking connect whose listener's backlog is full.
        switch errno {
        case EAGAIN, EINPROGRESS: return .listening
        case ECONNREFUSED, ENOENT: return .dead
        case let code: return .unknown(String(cString: strerror(code)))
        }
    }

    /// Records the socket just bound, gives it its mode (0600, or 0660 and the admin group) and
    /// links it into place; stops the server when that fails.
    func claim(logger: Logger) async {
        var info = stat()
        guard lstat(bindingPath, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else {
            return await fail("the admin socket \(bindingPath) is missing right after binding", logger: logger)
        }
        created = FileIdentity(info)
        // Group first, then mode: until both are set the socket stays owner-only (umask 077).
        if let adminGroup, lchown(bindingPath, uid_t.max, adminGroup.gid) != 0 {
            return await fail(
                "cannot give the admin socket to group \(adminGroup.name): \(String(cString: strerror(errno)))",
                logger: logger)
        }
        guard chmod(bindingPath, adminGroup == nil ? 0o600 : 0o660) == 0 else {
            return await fail("cannot set the admin socket's mode: \(String(cString: strerror(errno)))", logger: logger)
        }
        guard link(bindingPath, path) == 0 else {
            let reason =
                errno == EEXIST
                ? "something appeared at \(path) while the server started; it was left alone"
                : "cannot put the admin socket at \(path): \(String(cString: strerror(errno)))"
            return await fail(reason, logger: logger)
        }
        unlink(bindingPath)
        logger.info(
            "admin socket ready",
            metadata: [
                "socket.path": "\(path)", "socket.mode": adminGroup == nil ? "0600" : "0660",
                "socket.group": "\(adminGroup?.name ?? "-")",
            ])
        guard let adminGroup else { return }
        let directory = (path as NSString).deletingLastPathComponent
        var parent = stat()
        if stat(directory.isEmpty ? "." : directory, &parent) == 0,
            !(parent.st_gid == adminGroup.gid && parent.st_mode & 0o010 != 0), parent.st_mode & 0o001 == 0
        {
            logger.warning(
                "members of group \(adminGroup.name) cannot reach the admin socket: its directory \(directory) is not searchable by them (chmod g+x or o+x, or choose another --socket)"
            )
        }
    }

    private func fail(_ reason: String, logger: Logger) async {
        logger.error("\(reason)")
        unlink(bindingPath)
        created = nil
        failure = DeskError(.conflict, reason)
        await services?.triggerGracefulShutdown()
    }

    /// Removes the socket at shutdown, only while the path still holds the one this server bound.
    func release(logger: Logger) {
        guard let created else { return }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK, FileIdentity(info) == created else {
            logger.notice("the admin socket path \(path) now holds another file; left in place")
            return
        }
        unlink(path)
        self.created = nil
    }
}
