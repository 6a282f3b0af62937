import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Seals stored secrets (mailbox and relay passwords) with AES-GCM under a key kept in a file of
/// its own (mode 0600; `DATA_DIR/secret.key` unless the admin keeps it elsewhere), so a copied
/// database alone does not reveal them.
public struct SecretBox: Sendable {
    /// The raw key bytes; `SymmetricKey` itself is not `Sendable`.
    let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    private static let keySize = 32

    /// Loads the key file, creating it with a fresh random key only when nothing exists at its
    /// path. A key file that exists but cannot be read, or is not a 32-byte regular file, stops
    /// here: replacing it would make every stored password undecryptable.
    public init(keyFile: URL) throws {
        let path = keyFile.path
        if let existing = try Self.readKey(at: path) {
            keyBytes = existing
            return
        }
        let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        if try Self.createKey(fresh, at: path) {
            keyBytes = fresh
            return
        }
        // Another process created it between our two calls: use theirs.
        guard let raced = try Self.readKey(at: path) else {
            throw DeskError(
                .storage,
                "secret key file \(path) exists but cannot be opened (a dangling symbolic link?); postdesk does not replace it, because the stored passwords need that key"
            )
        }
        keyBytes = raced
    }

    /// The key at `path`, or nil when nothing is there.
    private static func readKey(at path: String) throws -> Data? {
        let descriptor = openFile(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw refusal(path, "cannot be read: \(String(cString: strerror(code)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw refusal(path, "cannot be read: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw refusal(path, "is not a regular file") }
        // One byte more than a key, to tell a longer file from a key.
        var buffer = [UInt8](repeating: 0, count: keySize + 1)
        var count = 0
        while count < buffer.count {
            let got = buffer.withUnsafeMutableBytes { bytes in
                read(descriptor, bytes.baseAddress.map { $0 + count }, bytes.count - count)
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw refusal(path, "cannot be read: \(String(cString: strerror(errno)))") }
            if got == 0 { break }
            count += got
        }
        guard count == keySize else {
            throw refusal(
                path,
                "is damaged: it holds \(count > keySize ? "more than \(keySize)" : "\(count)") bytes, a key has \(keySize)"
            )
        }
        return Data(buffer.prefix(keySize))
    }

    /// Writes a new key file; false when something appeared at `path` meanwhile.
    private static func createKey(_ key: Data, at path: String) throws -> Bool {
        let descriptor = openFile(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST { return false }
            throw DeskError(
                .storage, "cannot create secret key file \(path): \(String(cString: strerror(code)))")
        }
        var written = 0
        var failure: Int32?
        while written < key.count, failure == nil {
            let wrote = key.withUnsafeBytes { bytes in
                write(descriptor, bytes.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if wrote < 0 {
                if errno != EINTR { failure = errno }
            } else {
                written += wrote
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        if let failure {
            // The file is ours and holds no usable key yet; leaving it would stop the next start.
            unlink(path)
            throw DeskError(
                .storage, "cannot write secret key file \(path): \(String(cString: strerror(failure)))")
        }
        return true
    }

    private static func refusal(_ path: String, _ problem: String) -> DeskError {
        DeskError(
            .storage,
            "secret key file \(path) \(problem); postdesk does not replace an existing key, because every stored password would be lost"
        )
    }

    /// A key for tests and in-memory stores.
    public init() {
        self.keyBytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
    }

    /// Encrypts a secret for storage.
    public func seal(_ secret: String) throws -> Data {
        do {
            guard let combined = try AES.GCM.seal(Data(secret.utf8), using: key).combined else {
                throw DeskError(.storage, "cannot seal secret")
            }
            return combined
        } catch let error as DeskError {
            throw error
        } catch {
            throw DeskError(.storage, "cannot seal secret: \(error)")
        }
    }

    /// Decrypts a stored secret.
    public func open(_ sealed: Data) throws -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: key)
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw DeskError(.storage, "a stored secret cannot be decrypted with this data directory's key")
        }
    }
}

/// The C `open`, which `SecretBox.open(_:)` hides inside the type.
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    open(path, flags, mode)
}
