import Foundation
import Testing

@testable import postdesk

/// The settings table of `postdesk serve` and its resolver: precedence, sources, the config file's format and its
/// errors, bad values naming their source, and masking of secrets. (The executable's own module: this target is the
/// one that links it, and Package.swift gets no new target for this.)
@Suite("Serve settings")
struct ServeSettingsTests {
    typealias Resolved = ResolvedSettings<ServeSetting>

    static func file(_ text: String, path: String = "/etc/postdesk.conf") throws -> ConfigFile<ServeSetting> {
        try ConfigFile(path: path, text: text)
    }

    static func resolve(
        flags: [ServeSetting: String] = [:], environment: [String: String] = [:], file text: String? = nil
    ) throws(SettingsError) -> Resolved {
        try Resolved.resolve(
            flags: flags, configFlag: text == nil ? nil : "/etc/postdesk.conf", environment: environment,
            read: { path throws(SettingsError) in try ConfigFile(path: path, text: text ?? "") })
    }

    /// The problems `body` throws, or none.
    static func problems(_ body: () throws -> Void) -> [SettingsError.Problem] {
        do {
            try body()
            return []
        } catch {
            return (error as? SettingsError)?.problems ?? [
                .init(code: .badValue, message: "not a SettingsError: \(error)")
            ]
        }
    }

    @Test("flag beats environment beats config file beats default, each source named")
    func precedence() throws {
        let text = "# postdesk\npoll-seconds = 30\n\nmax-attempts = 4\n"
        let all = try Self.resolve(
            flags: [.pollSeconds: "10"], environment: ["POSTDESK_POLL_SECONDS": "20", "POSTDESK_MAX_ATTEMPTS": "5"],
            file: text)
        #expect(all.number(.pollSeconds) == 10)
        #expect(all.source(.pollSeconds) == .flag("--poll-seconds"))
        #expect(all.number(.maxAttempts) == 5)
        #expect(all.source(.maxAttempts) == .environment("POSTDESK_MAX_ATTEMPTS"))

        let withoutFlag = try Self.resolve(environment: ["POSTDESK_POLL_SECONDS": "20"], file: text)
        #expect(withoutFlag.number(.pollSeconds) == 20)
        #expect(withoutFlag.source(.pollSeconds) == .environment("POSTDESK_POLL_SECONDS"))

        let fileOnly = try Self.resolve(file: text)
        #expect(fileOnly.number(.pollSeconds) == 30)
        #expect(fileOnly.source(.pollSeconds) == .configFile(path: "/etc/postdesk.conf", line: 2))
        #expect(fileOnly.source(.maxAttempts) == .configFile(path: "/etc/postdesk.conf", line: 4))
        #expect(fileOnly.configFile?.path == "/etc/postdesk.conf")
        #expect(fileOnly.configFile?.source == .flag("--config"))

        let none = try Self.resolve()
        #expect(none.number(.pollSeconds) == 60)
        #expect(none.source(.pollSeconds) == .defaultValue)
        #expect(none.value(.adminGroup) == nil)
        #expect(none.configFile == nil)
    }

    @Test("the sources print as flag --x, env POSTDESK_X, config FILE:LINE and default")
    func sourceNames() {
        #expect("\(SettingSource.flag("--poll-seconds"))" == "flag --poll-seconds")
        #expect("\(SettingSource.environment("POSTDESK_POLL_SECONDS"))" == "env POSTDESK_POLL_SECONDS")
        #expect("\(SettingSource.configFile(path: "/etc/p.conf", line: 7))" == "config /etc/p.conf:7")
        #expect("\(SettingSource.defaultValue)" == "default")
    }

    @Test("the variables that deploy/ and containers set keep working; POSTDESK_CONFIG names the file")
    func existingVariables() throws {
        let environment = [
            "POSTDESK_DATA_DIR": "/var/lib/postdesk", "POSTDESK_SOCKET": "/run/postdesk/admin.sock",
            "POSTDESK_SECRET_KEY_FILE": "/etc/postdesk/key", "POSTDESK_ADMIN_GROUP": "support",
            "POSTDESK_CONFIG": "/etc/other.conf",
            // Variables of the tests and scripts that are no setting's are none of the resolver's business.
            "POSTDESK_BINARY": "/x", "POSTDESK_DOCKERFILE": "/y",
        ]
        let settings = try Resolved.resolve(
            flags: [:], configFlag: nil, environment: environment,
            read: { path throws(SettingsError) in try ConfigFile(path: path, text: "log-format = json\n") })
        #expect(settings.value(.dataDir) == "/var/lib/postdesk")
        #expect(settings.value(.socket) == "/run/postdesk/admin.sock")
        #expect(settings.value(.secretKeyFile) == "/etc/postdesk/key")
        #expect(settings.value(.adminGroup) == "support")
        #expect(settings.value(.logFormat) == "json")
        #expect(settings.configFile?.path == "/etc/other.conf")
        #expect(settings.configFile?.source == .environment("POSTDESK_CONFIG"))
    }

    @Test("an empty value unsets a setting without a default, even one the file sets; one with a default refuses it")
    func emptyValues() throws {
        let settings = try Self.resolve(environment: ["POSTDESK_ADMIN_GROUP": ""], file: "admin-group = support\n")
        #expect(settings.value(.adminGroup) == nil)
        #expect(settings.source(.adminGroup) == .environment("POSTDESK_ADMIN_GROUP"))
        let refused = Self.problems { _ = try Self.resolve(environment: ["POSTDESK_POLL_SECONDS": ""]) }
        #expect(refused.map(\.message) == ["POSTDESK_POLL_SECONDS=: empty, and this setting needs a value"])
    }

    @Test("a bad value names its source, also one a higher source overrides; all problems at once")
    func badValues() {
        let problems = Self.problems {
            _ = try Self.resolve(
                flags: [.maxAttempts: "0", .pollSeconds: "5"],
                environment: ["POSTDESK_POLL_SECONDS": "abc", "POSTDESK_LOG_FORMAT": "xml"],
                file: "sender-rate-limit = -1\nlmtp-listen = nowhere\nlog-level = loud\nlmtp-max-size = +5\n")
        }
        #expect(problems.allSatisfy { $0.code == .badValue })
        let messages = Set(problems.map(\.message))
        #expect(messages.contains("POSTDESK_POLL_SECONDS=abc: not a whole number"), "\(messages)")
        #expect(messages.contains("--max-attempts 0: below the minimum of 1"), "\(messages)")
        #expect(messages.contains("POSTDESK_LOG_FORMAT=xml: not one of text, json"), "\(messages)")
        #expect(
            messages.contains("/etc/postdesk.conf:1: sender-rate-limit = -1: below the minimum of 0"), "\(messages)")
        #expect(
            messages.contains {
                $0.hasPrefix("/etc/postdesk.conf:2: lmtp-listen = nowhere: ") && $0.count > "… nowhere: ".count + 30
            }, "\(messages)")
        #expect(
            messages.contains(
                "/etc/postdesk.conf:3: log-level = loud: not one of trace, debug, info, notice, warning, error, critical"
            ), "\(messages)")
        #expect(messages.contains("/etc/postdesk.conf:4: lmtp-max-size = +5: not a whole number"), "\(messages)")
        #expect(messages.count == 7, "\(messages)")

        let huge = Self.problems { _ = try Self.resolve(flags: [.maxAttachmentMb: "99999999999999"]) }
        #expect(huge.first?.message.hasPrefix("--max-attachment-mb 99999999999999: above the maximum of ") == true)
        let overflow = Self.problems { _ = try Self.resolve(flags: [.pollSeconds: "99999999999999999999999"]) }
        #expect(overflow.map(\.message) == ["--poll-seconds 99999999999999999999999: out of range"])
        // A value with a line break stays one line in the error.
        let broken = Self.problems { _ = try Self.resolve(environment: ["POSTDESK_POLL_SECONDS": "5\nx"]) }
        #expect(broken.map(\.message) == ["POSTDESK_POLL_SECONDS=5\\nx: not a whole number"])
    }

    @Test("an unknown key is an error naming the key and its line, with the likely meaning")
    func unknownKey() {
        let problems = Self.problems {
            _ = try Self.file("data-dir = /d\n# poll-secnds = 1 is only a comment\npoll-secnds = 5\ncolour = red\n")
        }
        #expect(
            problems == [
                .init(
                    code: .unknownKey,
                    message: "/etc/postdesk.conf:3: unknown setting \"poll-secnds\" (did you mean poll-seconds?)"),
                .init(code: .unknownKey, message: "/etc/postdesk.conf:4: unknown setting \"colour\""),
            ])
        // The option's spelling with dashes in front, or the variable's, is no key either.
        #expect(Self.problems { _ = try Self.file("--poll-seconds = 5") }.map(\.code) == [.unknownKey])
        #expect(Self.problems { _ = try Self.file("POSTDESK_POLL_SECONDS = 5") }.map(\.code) == [.unknownKey])
    }

    @Test("a line without = and a key given twice are errors naming their lines")
    func malformedAndDuplicate() {
        let problems = Self.problems { _ = try Self.file("poll-seconds 5\r\nmax-attempts = 2\r\nmax-attempts = 3\r\n") }
        #expect(
            problems == [
                .init(code: .malformedLine, message: "/etc/postdesk.conf:1: not a `key = value` line: poll-seconds 5"),
                .init(
                    code: .duplicateKey, message: "/etc/postdesk.conf:3: max-attempts is set again (first on line 2)"),
            ])
    }

    @Test("values keep what follows the first =, blanks around them dropped; CRLF lines read as LF lines")
    func valueSyntax() throws {
        let file = try Self.file(
            "  admin-group   =  desk = ops # not a comment  \r\nsocket=/run/p/admin.sock\n\n   # x\n")
        #expect(file.entries[.adminGroup] == .init(value: "desk = ops # not a comment", line: 1))
        #expect(file.entries[.socket] == .init(value: "/run/p/admin.sock", line: 2))
        #expect(file.entries.count == 2)
    }

    @Test("a config file that cannot be read is an error naming it")
    func unreadableFile() {
        let path = "/nonexistent-\(UUID().uuidString)/postdesk.conf"
        let problems = Self.problems {
            _ = try Resolved.resolve(flags: [:], configFlag: path, environment: [:])
        }
        #expect(problems.map(\.code) == [.unreadableFile])
        #expect(problems.first?.message.hasPrefix("cannot read the config file \(path)") == true)
    }

    // Speed is not asserted (no timed unit tests); a quadratic reader would make this test hang, not pass.
    @Test("a config file of 200,000 lines is read to its last line, with the right line number")
    func largeFile() throws {
        let text = String(repeating: "# comment line of a reasonable length\n", count: 200_000) + "poll-seconds = 9\n"
        let file = try Self.file(text)
        #expect(file.entries[.pollSeconds]?.line == 200_001)
        // A long unknown key gets no suggestion (the edit distance would be quadratic in it).
        #expect(ConfigFile<ServeSetting>.closestName(to: String(repeating: "x", count: 100_000)) == nil)
    }

    @Test("the table: env names are POSTDESK_ and the name; each default passes its own check; help names both")
    func table() {
        #expect(ServeSetting.pollSeconds.environmentName == "POSTDESK_POLL_SECONDS")
        #expect(ServeSetting.lmtpMaxSize.environmentName == "POSTDESK_LMTP_MAX_SIZE")
        #expect(ServeSetting.dataDir.flag == "--data-dir")
        for setting in ServeSetting.allCases {
            #expect(setting.help.contains("(env \(setting.environmentName)"), "\(setting)")
            if case .value(let value) = setting.row.fallback {
                #expect(setting.row.kind.problem(with: value) == nil, "\(setting)'s default \(value)")
                #expect(setting.help.contains("; default \(value))"), "\(setting)")
            }
        }
        #expect(ServeSetting.socket.help == "Admin socket path (env POSTDESK_SOCKET; default DATA_DIR/admin.sock).")
    }

    @Test("every setting of the table has its serve option, and the option lands on its setting")
    func everySettingHasItsFlag() throws {
        let arguments = ServeSetting.allCases.flatMap { [$0.flag, "value-of-\($0.rawValue)"] }
        let command = try ServeCommand.parse(arguments)
        #expect(command.flags.count == ServeSetting.allCases.count)
        for setting in ServeSetting.allCases {
            #expect(command.flags[setting] == "value-of-\(setting.rawValue)", "\(setting)")
        }
        #expect(try ServeCommand.parse([]).flags.isEmpty)
    }

    @Test("--print-config: one line a setting with its value and source; derived values shown as the server uses them")
    func printed() throws {
        let settings = try Self.resolve(
            flags: [.dataDir: "/srv/desk"], environment: ["POSTDESK_POLL_SECONDS": "20"],
            file: "\nadmin-group = support\n")
        let lines = settings.printed { ServeCommand.derived($0, in: settings) }
        #expect(lines.first == "# config file: /etc/postdesk.conf (flag --config)")
        #expect(lines.count == ServeSetting.allCases.count + 1)
        func line(_ setting: ServeSetting) -> String { lines.first { $0.hasPrefix(setting.rawValue + " = ") } ?? "" }
        #expect(line(.dataDir).hasSuffix("(flag --data-dir)"))
        #expect(line(.dataDir).hasPrefix("data-dir = /srv/desk "))
        #expect(line(.pollSeconds).hasPrefix("poll-seconds = 20 "))
        #expect(line(.pollSeconds).hasSuffix("(env POSTDESK_POLL_SECONDS)"))
        #expect(line(.adminGroup).hasPrefix("admin-group = support "))
        #expect(line(.adminGroup).hasSuffix("(config /etc/postdesk.conf:2)"))
        #expect(line(.socket).hasPrefix("socket = /srv/desk/admin.sock "))
        #expect(line(.socket).hasSuffix("(default: DATA_DIR/admin.sock)"))
        #expect(line(.lmtpListen).hasSuffix("(default: not set)"))
        #expect(line(.maxAttempts).hasPrefix("max-attempts = 3 "))
        #expect(line(.maxAttempts).hasSuffix("(default)"))
        // The admin group and the key's path are no secrets: nothing of the real table is masked.
        #expect(!lines.contains { $0.contains(Resolved.maskedValue) })
    }
}

/// A table with a secret in it, as a future password setting would be: its value is never printed.
enum VaultSetting: String, SettingTable {
    case user
    case password

    static let environmentPrefix = "VAULT_"

    var row: SettingRow {
        switch self {
        case .user: SettingRow(summary: "User", kind: .text, fallback: .none)
        case .password:
            SettingRow(
                summary: "Password",
                kind: .parsed { if $0.count < 8 { throw PostdeskTestError("shorter than 8 characters") } },
                fallback: .none, isSecret: true)
        }
    }
}

@Suite("Serve settings: secrets")
struct SecretSettingTests {
    @Test("a secret's value is masked in --print-config, and a bad one's in the error, whatever its source")
    func masking() throws {
        let settings = try ResolvedSettings<VaultSetting>.resolve(
            flags: [:], configFlag: "/etc/vault.conf", environment: ["VAULT_PASSWORD": "correct horse battery"],
            read: { path throws(SettingsError) in
                try ConfigFile(path: path, text: "user = ann\npassword = older-pass\n")
            })
        #expect(settings.value(.password) == "correct horse battery")
        let lines = settings.printed()
        #expect(lines.contains { $0.hasPrefix("password = ******** ") && $0.hasSuffix("(env VAULT_PASSWORD)") })
        #expect(lines.contains { $0.hasPrefix("user = ann ") && $0.hasSuffix("(config /etc/vault.conf:1)") })
        #expect(!lines.joined().contains("horse"))
        #expect(!lines.joined().contains("older-pass"))

        for (flags, environment, text, expected) in [
            (
                [VaultSetting.password: "short1"], [String: String](), "",
                "--password ********: shorter than 8 characters"
            ),
            ([:], ["VAULT_PASSWORD": "short2"], "", "VAULT_PASSWORD=********: shorter than 8 characters"),
            ([:], [:], "password = short3\n", "/etc/vault.conf:1: password = ********: shorter than 8 characters"),
        ] {
            do throws(SettingsError) {
                _ = try ResolvedSettings<VaultSetting>.resolve(
                    flags: flags, configFlag: "/etc/vault.conf", environment: environment,
                    read: { path throws(SettingsError) in try ConfigFile(path: path, text: text) })
                Issue.record("a short password passed")
            } catch {
                #expect(error.problems.map(\.message) == [expected])
                #expect(!"\(error)".contains(/short[0-9]/))
            }
        }
        // An unset secret shows nothing to mask.
        let unset = try ResolvedSettings<VaultSetting>.resolve(flags: [:], configFlag: nil, environment: [:])
        #expect(unset.printed().contains { $0.hasPrefix("password = ") && $0.hasSuffix("(default: not set)") })
    }
}
