import Foundation

/// The effective settings: for each setting of the table its value and where it came from, by the precedence
/// flag > environment > config file > default. Every value given in any source is checked, also one a higher source
/// overrides, so that a configuration is known good before the override goes; every problem is reported at once.
struct ResolvedSettings<Setting: SettingTable>: Sendable {
    /// One setting's effective value (nil: not set) and its source.
    struct Entry: Sendable, Equatable {
        var value: String?
        var source: SettingSource
    }

    /// The config file that was read, and what named it (`--config` or the environment); nil: none.
    var configFile: (path: String, source: SettingSource)?
    private(set) var entries: [Setting: Entry]

    /// The config file's option and environment variable.
    static var configFlag: String { "--config" }
    static var configEnvironmentName: String { Setting.environmentPrefix + "CONFIG" }

    /// Resolves the table from `flags` (the options given, by setting), `environment`, and the config file named by
    /// `configFlag` or the environment, read with `read`.
    static func resolve(
        flags: [Setting: String], configFlag: String?, environment: [String: String],
        read: (String) throws(SettingsError) -> ConfigFile<Setting> = { path throws(SettingsError) in
            try ConfigFile.read(path: path)
        }
    ) throws(SettingsError) -> ResolvedSettings {
        var problems: [SettingsError.Problem] = []
        var file: ConfigFile<Setting>?
        var fileChoice: (path: String, source: SettingSource)?
        if let path = configFlag ?? environment[configEnvironmentName], !path.isEmpty {
            fileChoice = (path, configFlag != nil ? .flag(Self.configFlag) : .environment(configEnvironmentName))
            do throws(SettingsError) {
                file = try read(path)
            } catch {
                problems += error.problems
            }
        }
        var entries: [Setting: Entry] = [:]
        for setting in Setting.allCases {
            // Lowest first: each source present replaces the one below it.
            var candidates: [(value: String, source: SettingSource)] = []
            if case .value(let value) = setting.row.fallback { candidates.append((value, .defaultValue)) }
            if let entry = file?.entries[setting] {
                candidates.append((entry.value, .configFile(path: file?.path ?? "", line: entry.line)))
            }
            if let value = environment[setting.environmentName] {
                candidates.append((value, .environment(setting.environmentName)))
            }
            if let value = flags[setting] { candidates.append((value, .flag(setting.flag))) }
            for candidate in candidates {
                if let problem = problem(setting, candidate.value) {
                    problems.append(.init(code: .badValue, message: message(setting, candidate, problem)))
                }
            }
            if let winner = candidates.last {
                entries[setting] = Entry(value: winner.value.isEmpty ? nil : winner.value, source: winner.source)
            } else {
                entries[setting] = Entry(value: nil, source: .defaultValue)
            }
        }
        guard problems.isEmpty else { throw SettingsError(problems: problems) }
        return ResolvedSettings(configFile: fileChoice, entries: entries)
    }

    /// What is wrong with `value` for `setting`; an empty value unsets a setting without a default value.
    private static func problem(_ setting: Setting, _ value: String) -> String? {
        if value.isEmpty, case .value = setting.row.fallback {
            return "empty, and this setting needs a value"
        }
        return value.isEmpty ? nil : setting.row.kind.problem(with: value)
    }

    /// "POSTDESK_POLL_SECONDS=abc: not a whole number", "--poll-seconds abc: …", "FILE:3: poll-seconds = abc: …".
    private static func message(
        _ setting: Setting, _ candidate: (value: String, source: SettingSource), _ problem: String
    ) -> String {
        let shown = setting.row.isSecret ? maskedValue : LogLine.escapedText(candidate.value)
        switch candidate.source {
        case .flag(let flag): return "\(flag) \(shown): \(problem)"
        case .environment(let name): return "\(name)=\(shown): \(problem)"
        case .configFile(let path, let line): return "\(path):\(line): \(setting.rawValue) = \(shown): \(problem)"
        case .defaultValue: return "the default of \(setting.rawValue), \(shown): \(problem)"
        }
    }

    /// What stands for a secret's value wherever it would be shown.
    static var maskedValue: String { "********" }

    /// The effective value, nil when not set.
    func value(_ setting: Setting) -> String? { entries[setting]?.value }

    /// The value of a whole-number setting (checked when resolved; 0 only for a table whose default is no number).
    func number(_ setting: Setting) -> Int { value(setting).flatMap { Int($0) } ?? 0 }

    /// Where the value came from.
    func source(_ setting: Setting) -> SettingSource { entries[setting]?.source ?? .defaultValue }

    /// `--print-config`: a line for the config file, then one a setting with its value (masked when secret) and its
    /// source. `derived` gives the value the server derives for a setting left unset (e.g. the socket path).
    func printed(derived: (Setting) -> String? = { _ in nil }) -> [String] {
        let fileLine =
            configFile.map { "# config file: \($0.path) (\($0.source))" } ?? "# config file: none"
        let rows = Setting.allCases.map { setting -> (left: String, source: String) in
            let entry = entries[setting] ?? Entry(value: nil, source: .defaultValue)
            var source = "\(entry.source)"
            let shown: String
            if let value = entry.value {
                shown = setting.row.isSecret ? Self.maskedValue : LogLine.escapedText(value)
            } else if let value = derived(setting) {
                shown = LogLine.escapedText(value)
                if case .derived(let how) = setting.row.fallback { source += ": \(how)" }
            } else {
                shown = ""
                source += entry.source == .defaultValue ? ": not set" : ": unset"
            }
            return ("\(setting.rawValue) = \(shown)", source)
        }
        let width = rows.map(\.left.count).max() ?? 0
        return [fileLine]
            + rows.map {
                $0.left.padding(toLength: max(width, $0.left.count), withPad: " ", startingAt: 0) + "  (\($0.source))"
            }
    }
}
