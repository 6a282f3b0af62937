import Foundation
import Testing

@testable import ServiceDesk

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Secret key file")
struct SecretBoxTests {
    /// A fresh private directory for one test.
    func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("secretbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    @Test("a missing key file is created with 32 random bytes, mode 0600, and opens what the first box sealed")
    func createsAndReloads() throws {
        let key = try directory().appendingPathComponent("secret.key")
        let first = try SecretBox(keyFile: key)
        let sealed = try first.seal("hunter2")
        #expect(try Data(contentsOf: key).count == 32)
        #expect(mode(key.path) == 0o600)
        let second = try SecretBox(keyFile: key)
        #expect(try second.open(sealed) == "hunter2")
    }

    @Test("a key file of the wrong size stops the start and is left as it was", arguments: [0, 1, 31, 33, 4096])
    func wrongSize(_ size: Int) throws {
        let key = try directory().appendingPathComponent("secret.key")
        let content = Data((0..<size).map { UInt8(truncatingIfNeeded: $0) })
        try content.write(to: key)
        let error = try #require(throws: DeskError.self) { try SecretBox(keyFile: key) }
        #expect(error.message.contains("is damaged"))
        #expect(error.message.contains("does not replace an existing key"))
        #expect(try Data(contentsOf: key) == content)
    }

    @Test("a directory at the key path stops the start and is left in place")
    func directoryAtPath() throws {
        let key = try directory().appendingPathComponent("secret.key")
        try FileManager.default.createDirectory(at: key, withIntermediateDirectories: false)
        let error = try #require(throws: DeskError.self) { try SecretBox(keyFile: key) }
        #expect(error.message.contains("is not a regular file"))
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: key.path, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test("a dangling symbolic link at the key path is not replaced by a new key")
    func danglingLink() throws {
        let base = try directory()
        let key = base.appendingPathComponent("secret.key")
        let target = base.appendingPathComponent("elsewhere/secret.key")
        try FileManager.default.createSymbolicLink(atPath: key.path, withDestinationPath: target.path)
        let error = try #require(throws: DeskError.self) { try SecretBox(keyFile: key) }
        #expect(error.message.contains("does not replace"))
        #expect(!FileManager.default.fileExists(atPath: target.path))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: key.path)) == target.path)
    }

    @Test("a key file in a directory that does not exist is an error, not a silent in-memory key")
    func missingDirectory() throws {
        let key = try directory().appendingPathComponent("absent/secret.key")
        let error = try #require(throws: DeskError.self) { try SecretBox(keyFile: key) }
        #expect(error.message.contains("cannot create secret key file"))
    }

    @Test("a key file reached through a symbolic link is read, not replaced")
    func followsLink() throws {
        let base = try directory()
        let real = base.appendingPathComponent("real.key")
        let sealed = try SecretBox(keyFile: real).seal("pw")
        let link = base.appendingPathComponent("secret.key")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: real.path)
        #expect(try SecretBox(keyFile: link).open(sealed) == "pw")
    }
}
