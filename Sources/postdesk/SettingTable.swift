import Foundation

/// A closed table of settings (an enum): each case is a long option name (`poll-seconds`), which is also its key in
/// a config file; its row says the rest. The resolver, the config file reader and `--print-config` work on any table,
/// so that they can be tested on one with a secret in it.
protocol SettingTable: CaseIterable, Hashable, Sendable, RawRepresentable where RawValue == String {
    /// What the setting is: help, default, check, secrecy.
    var row: SettingRow { get }
    /// Prepended to the upper-cased name to make the environment variable (`POSTDESK_`).
    static var environmentPrefix: String { get }
}

extension SettingTable {
    /// The long option: `--poll-seconds`.
    var flag: String { "--" + rawValue }

    /// The environment variable: the prefix and the name upper-cased, dashes to underscores (`POSTDESK_POLL_SECONDS`),
    /// unless the row names its own.
    var environmentName: String {
        Self.environmentPrefix + (row.environmentName ?? rawValue.uppercased().replacingOccurrences(of: "-", with: "_"))
    }

    /// The flag's help line, naming its environment variable and default (deploy/check-runtime.sh reads it).
    var help: String {
        let shownDefault: String? =
            switch row.fallback {
            case .value(let value): value
            case .derived(let description): description
            case .none: nil
            }
        return "\(row.summary) (env \(environmentName)\(shownDefault.map { "; default \($0)" } ?? ""))."
    }
}

/// One setting's row in its table.
struct SettingRow: Sendable {
    /// The help text, without the variable and the default (added by `help`).
    var summary: String
    /// What a value must look like.
    var kind: SettingKind
    /// What applies when no source sets it.
    var fallback: SettingFallback
    /// A secret's value is never printed, neither by `--print-config` nor in an error.
    var isSecret = false
    /// The environment variable's name after the prefix, when it is not the setting's own (`DATABASE_URL`).
    var environmentName: String? = nil
}

/// What applies to a setting no source sets.
enum SettingFallback: Sendable, Equatable {
    /// This value, checked like any other.
    case value(String)
    /// No value here: the server derives one (the description says how, e.g. `DATA_DIR/admin.sock`).
    case derived(String)
    /// No value: the feature is off.
    case none
}

/// What a setting's value must look like; `problem(with:)` says what is wrong with one.
enum SettingKind: Sendable {
    /// Any text.
    case text
    /// A file or directory path (not empty).
    case path
    /// A whole number from `minimum` to `maximum`.
    case wholeNumber(minimum: Int, maximum: Int = .max)
    /// One of these words.
    case choice([String])
    /// Checked by a parser of the setting's own, whose error is the problem.
    case parsed(@Sendable (String) throws -> Void)

    /// Why `value` does not fit, or nil when it does.
    func problem(with value: String) -> String? {
        switch self {
        case .text:
            return nil
        case .path:
            return value.isEmpty ? "an empty path" : nil
        case .wholeNumber(let minimum, let maximum):
            // Int() alone takes "+5": only ASCII digits, with an optional minus.
            let digits = value.hasPrefix("-") ? value.dropFirst() : Substring(value)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return "not a whole number" }
            guard let number = Int(value) else { return "out of range" }
            if number < minimum { return "below the minimum of \(minimum)" }
            return number > maximum ? "above the maximum of \(maximum)" : nil
        case .choice(let words):
            return words.contains(value) ? nil : "not one of \(words.joined(separator: ", "))"
        case .parsed(let parse):
            do {
                try parse(value)
                return nil
            } catch {
                return "\(error)"
            }
        }
    }
}
