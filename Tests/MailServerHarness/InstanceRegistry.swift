import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The process-wide list of running instances, the shared instance, and the `atexit` hook that stops them all.
final class InstanceRegistry: @unchecked Sendable {
    /// The one registry of this process.
    static let shared = InstanceRegistry()

    // Guards every stored property below.
    private let lock = NSLock()
    private var running: [ObjectIdentifier: MailServers] = [:]
    private var sharedInstance: Task<MailServers, any Error>?

    private init() {
        Self.sweepAbandonedInstances()
        atexit {
            InstanceRegistry.shared.stopAll()
        }
    }

    /// The shared instance, started by the first caller; every other caller awaits the same start.
    func sharedServers() async throws -> MailServers {
        let task = lock.withLock {
            if let sharedInstance { return sharedInstance }
            let task = Task { try await MailServers.start() }
            sharedInstance = task
            return task
        }
        return try await task.value
    }

    /// Remembers a running instance so that process exit stops it.
    func register(_ servers: MailServers) {
        lock.withLock { running[ObjectIdentifier(servers)] = servers }
    }

    /// Forgets a stopped instance.
    func unregister(_ servers: MailServers) {
        _ = lock.withLock { running.removeValue(forKey: ObjectIdentifier(servers)) }
    }

    /// Stops every running instance (called at process exit).
    func stopAll() {
        let instances = lock.withLock { Array(running.values) }
        DispatchQueue.concurrentPerform(iterations: instances.count) { instances[$0].stop() }
    }

    /// Stops servers left behind by test processes that died without running `atexit` (crash, SIGKILL), and
    /// removes their directories.
    private static func sweepAbandonedInstances() {
        let temporary = MailServers.temporaryRoot
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: temporary.path) else { return }
        for entry in entries where entry.hasPrefix(MailServerHarness.directoryPrefix) {
            let directory = temporary.appendingPathComponent(entry)
            let ownerFile = directory.appendingPathComponent("owner.pid").path
            guard let owner = readPID(ownerFile), !ProcessTable.isAlive(owner) else { continue }
            var targets: [ProcessTable.Target] = []
            if let master = readPID(directory.appendingPathComponent("run/master.pid").path),
                ProcessTable.commandLine(master).contains(directory.path)
            {
                targets.append(.init(pid: master, reap: nil))
            }
            if let smtpd = readPID(directory.appendingPathComponent("smtpd/smtpd.pid").path),
                ProcessTable.commandLine(smtpd).contains("smtpd")
            {
                targets.append(.init(pid: smtpd, reap: nil))
            }
            ProcessTable.terminate(targets, grace: .seconds(5))
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// The first integer in a file, if any.
    static func readPID(_ path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
