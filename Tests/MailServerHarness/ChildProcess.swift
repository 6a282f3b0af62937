import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A process started with `posix_spawn`, so the harness controls its process group, signal mask and reaping.
///
/// Foundation's `Process` is not used: it reaps children on its own thread and cannot put a child into a
/// new process group, which the harness needs to be sure no `smtpd` helper survives a stop.
struct ChildProcess: Sendable {
    /// The process id (and, when started with `newProcessGroup`, the process group id).
    let pid: pid_t

    /// How a finished process ended.
    enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exit status \(code)"
            case .signaled(let signal): "signal \(signal)"
            }
        }
    }

    /// Starts `executable` with `arguments`; stdin from `stdinPath` (or /dev/null), stdout and stderr appended to
    /// `outputPath`.
    static func spawn(
        _ executable: String,
        _ arguments: [String],
        stdinPath: String? = nil,
        outputPath: String,
        newProcessGroup: Bool = false
    ) throws -> ChildProcess {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        closeInheritedDescriptors(&fileActions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        // The test process may ignore SIGPIPE (NIO does); ignored signals survive exec, so reset them.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &fileActions, &attributes, argv, environ)
        guard result == 0 else {
            throw MailServerHarnessError(
                .startFailed,
                "could not start \(executable): \(String(cString: strerror(result)))"
            )
        }
        return ChildProcess(pid: pid)
    }

    /// Closes every descriptor above standard error in the child. Without it a long-lived server (OpenSMTPD,
    /// started on first use while other tests run) inherited whatever pipes the test process had open at that
    /// moment, such as the stdout pipe of a concurrent `postdesk` CLI run (Foundation's pipes are not
    /// close-on-exec), and the test reading that pipe to its end waited forever.
    private static func closeInheritedDescriptors(_ fileActions: inout posix_spawn_file_actions_t) {
        // glibc ≥ 2.34 has posix_spawn_file_actions_addclosefrom_np; Swift's Glibc module does not import it.
        guard let addCloseFrom else { return }
        _ = addCloseFrom(&fileActions, 3)
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: AddCloseFrom.self)
    }

    /// Blocks until the process ends and reaps it.
    func wait() -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { return .exited(-1) }
        }
        return Self.termination(status)
    }

    /// Reaps the process if it has ended; `nil` while it still runs.
    func poll() -> Termination? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result == -1 { return .exited(-1) }
        return Self.termination(status)
    }

    private static func termination(_ status: Int32) -> Termination {
        // WIFEXITED / WEXITSTATUS / WTERMSIG are C macros that Swift does not import.
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }

    /// Output of a command that ran to completion.
    struct Output: Sendable {
        var termination: Termination
        var stdout: Data
        var stderr: String
    }

    /// Runs a short command to completion, with stdout and stderr captured in files under `scratchDirectory`.
    static func run(
        _ executable: String,
        _ arguments: [String],
        input: [UInt8]? = nil,
        scratchDirectory: URL
    ) throws -> Output {
        let token = UUID().uuidString
        let inputPath = scratchDirectory.appendingPathComponent("\(token).in").path
        let outputPath = scratchDirectory.appendingPathComponent("\(token).out").path
        let errorPath = scratchDirectory.appendingPathComponent("\(token).err").path
        defer {
            for path in [inputPath, outputPath, errorPath] { unlink(path) }
        }
        if let input {
            guard FileManager.default.createFile(atPath: inputPath, contents: Data(input)) else {
                throw MailServerHarnessError(.commandFailed, "could not write \(inputPath)")
            }
        }
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, input == nil ? "/dev/null" : inputPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&fileActions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        closeInheritedDescriptors(&fileActions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &fileActions, &attributes, argv, environ)
        guard result == 0 else {
            throw MailServerHarnessError(
                .commandFailed,
                "could not start \(executable): \(String(cString: strerror(result)))"
            )
        }
        let termination = ChildProcess(pid: pid).wait()
        let stdout = FileManager.default.contents(atPath: outputPath) ?? Data()
        let stderr = FileManager.default.contents(atPath: errorPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return Output(termination: termination, stdout: stdout, stderr: stderr)
    }
}

/// Process inspection through /proc, used to make sure nothing the harness started outlives it.
enum ProcessTable {
    /// Whether `pid` names a live (not zombie) process.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // Format: "pid (comm) S ppid pgrp session ...": the state follows the last ')'.
        guard let close = stat.lastIndex(of: ")") else { return true }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.first != "Z" && fields.first != "X"
    }

    /// Live processes whose session id or process group id is `id`.
    static func members(ofSessionOrGroup id: pid_t) -> [pid_t] {
        guard id > 1, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var result: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // fields: state, ppid, pgrp, session
            guard fields.count > 3, fields[0] != "Z", fields[0] != "X" else { continue }
            if pid_t(fields[2]) == id || pid_t(fields[3]) == id { result.append(pid) }
        }
        return result
    }

    /// Live processes whose command line contains `text`.
    static func processes(withCommandLineContaining text: String) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { pid_t($0) }.filter { pid in
            pid != getpid() && commandLine(pid).contains(text) && isAlive(pid)
        }
    }

    /// The command line of `pid`, arguments joined by spaces ("" when unknown).
    static func commandLine(_ pid: pid_t) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// A process to stop: its pid (also its session or process group id) and, for the caller's own child, a
    /// function that reaps it.
    struct Target {
        var pid: pid_t
        var reap: (() -> Void)?
    }

    /// Sends SIGTERM to every target, waits up to `grace` for each target and every process of its session or
    /// group to end, then SIGKILLs what is left.
    static func terminate(_ targets: [Target], grace: Duration) {
        let targets = targets.filter { $0.pid > 1 }
        guard !targets.isEmpty else { return }
        for target in targets { kill(target.pid, SIGTERM) }
        func allGone() -> Bool {
            targets.allSatisfy { target in
                target.reap?()
                return !isAlive(target.pid) && members(ofSessionOrGroup: target.pid).isEmpty
            }
        }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if allGone() { return }
            usleep(10_000)
        }
        for target in targets {
            kill(target.pid, SIGKILL)
            for member in members(ofSessionOrGroup: target.pid) { kill(member, SIGKILL) }
        }
        let killDeadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < killDeadline {
            if allGone() { return }
            usleep(10_000)
        }
    }
}
