import Crypto
import Foundation

/// Seals stored secrets (mailbox and relay passwords) with AES-GCM under a key kept in the data
/// directory (mode 0600), so a copied database alone does not reveal them.
public struct SecretBox: Sendable {
    /// The raw key bytes; `SymmetricKey` itself is not `Sendable`.
    let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// Loads the key file, creating it with a fresh random key when it does not exist.
    public init(keyFile: URL) throws {
        let manager = FileManager.default
        if let data = manager.contents(atPath: keyFile.path) {
            guard data.count == 32 else {
                throw DeskError(.storage, "secret key file \(keyFile.path) is damaged (expected 32 bytes)")
            }
            keyBytes = data
        } else {
            let fresh = SymmetricKey(size: .bits256)
            let bytes = fresh.withUnsafeBytes { Data($0) }
            guard manager.createFile(atPath: keyFile.path, contents: bytes, attributes: [.posixPermissions: 0o600])
            else {
                throw DeskError(.storage, "cannot write secret key file \(keyFile.path)")
            }
            keyBytes = bytes
        }
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
