public import EntenteCore

/// The type of a catalog field: which `Value` kinds it holds and how its text form is read.
public enum FieldType: Hashable, Sendable {
    /// Free text (`Value.string`).
    case text
    /// A whole number, optionally limited to a range (a probability is `0...100`).
    case integer(ClosedRange<Int64>?)
    /// An exact decimal number.
    case decimal
    /// An exact amount with its ISO 4217 currency (`1250000.00 USD`).
    case money
    /// True or false.
    case boolean
    /// A calendar date (`2027-03-31`).
    case date
    /// An instant, milliseconds since 1970 UTC (`2027-03-31T09:30:00Z`).
    case timestamp
    /// One of a closed list of values, stored as text.
    case choice([String])
    /// Another shared object, of the named kind.
    case reference(kind: String)
    /// A company, by its id in hex (a CRM import maps partner names to ids).
    case company
    /// A set of text elements (add-wins: a concurrent add survives a remove).
    case set

    /// The name shown in help and errors.
    public var name: String {
        switch self {
        case .text: "text"
        case .integer(let range?): "integer \(range.lowerBound)-\(range.upperBound)"
        case .integer(nil): "integer"
        case .decimal: "decimal"
        case .money: "money"
        case .boolean: "boolean"
        case .date: "date"
        case .timestamp: "timestamp"
        case .choice: "choice"
        case .reference(let kind): "reference (\(kind))"
        case .company: "company"
        case .set: "set"
        }
    }

    /// Whether the field is a set (written with element operations, not a value).
    public var isSet: Bool { self == .set }

    /// Checks a value for this type; text given for a typed field is read in its canonical form (`2027-03-31`,
    /// `1250000.00 USD`, `true`, `42`). Null (a deletion) is always accepted.
    /// - Returns: the value to store, or a sentence naming the problem.
    public func check(_ value: Value) -> Result<Value, FieldProblem> {
        switch (self, value) {
        case (_, .null): return .success(.null)
        case (.text, .string), (.decimal, .decimal), (.money, .money), (.boolean, .boolean), (.date, .date),
            (.timestamp, .timestamp):
            return .success(value)
        case (.integer(let range), .integer(let number)):
            if let range, !range.contains(number) {
                return .failure(FieldProblem("\(number) is out of range \(range.lowerBound)-\(range.upperBound)"))
            }
            return .success(value)
        case (.choice(let allowed), .string(let text)), (.choice(let allowed), .enumeration(let text)):
            guard allowed.contains(text) else {
                return .failure(FieldProblem("'\(text)' is not one of: \(allowed.joined(separator: ", "))"))
            }
            return .success(.string(text))
        case (.reference, .reference): return .success(value)
        case (.company, .string(let text)):
            guard text.utf8.count == 32, text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            else { return .failure(FieldProblem("'\(text)' is not a company id (32 lower-case hex digits)")) }
            return .success(value)
        case (.set, _): return .failure(FieldProblem("a set field takes elements, not a value"))
        case (_, .string(let text)): return parse(text)
        default: return .failure(FieldProblem("takes a \(name), not a \(value.kindName)"))
        }
    }

    /// Reads the canonical text form of this type.
    public func parse(_ text: String) -> Result<Value, FieldProblem> {
        let parsed: Value?
        switch self {
        case .text: parsed = .string(text)
        case .integer: parsed = Int64(text).map(Value.integer)
        case .decimal: parsed = DecimalNumber(text).map(Value.decimal)
        case .money: parsed = Money(text).map(Value.money)
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "1": parsed = .boolean(true)
            case "false", "no", "0": parsed = .boolean(false)
            default: parsed = nil
            }
        case .date: parsed = CalendarDate(text).map(Value.date)
        case .timestamp: parsed = CalendarDate.parseISO8601(text).map(Value.timestamp)
        case .choice, .company: return check(.string(text))
        case .reference: parsed = ObjectID(hex: text).map(Value.reference)
        case .set: return .failure(FieldProblem("a set field takes elements, not a value"))
        }
        guard let parsed else { return .failure(FieldProblem("'\(text)' is not a \(example)")) }
        return check(parsed)
    }

    /// The expected format, for error messages.
    public var example: String {
        switch self {
        case .text: "text"
        case .integer(let range?): "whole number from \(range.lowerBound) to \(range.upperBound)"
        case .integer(nil): "whole number"
        case .decimal: "decimal number such as 0.25"
        case .money: "amount with a currency such as 1250000.00 USD"
        case .boolean: "boolean (true or false)"
        case .date: "date such as 2027-03-31"
        case .timestamp: "time such as 2027-03-31T09:30:00Z"
        case .choice(let allowed): "one of: \(allowed.joined(separator: ", "))"
        case .reference(let kind): "\(kind) id (32 hex digits)"
        case .company: "company id"
        case .set: "set"
        }
    }
}

/// Why a value does not fit a field.
public struct FieldProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// The sentence.
    public let message: String
    /// Wraps a sentence.
    public init(_ message: String) { self.message = message }
    /// The sentence.
    public var description: String { message }
}

/// Where a field lives and who reads it unless this company's policies say otherwise.
public enum Placement: Hashable, Sendable {
    /// A joint field: one value co-edited by every participant.
    case joint
    /// Each company's own field, shared with every participant by default.
    case shared
    /// Each company's own field, private by default (it never leaves the company unless a policy shares it).
    case `private`

    /// The name used in help, JSON and `Specs/domain.md`.
    public var name: String {
        switch self {
        case .joint: "joint"
        case .shared: "shared"
        case .private: "private"
        }
    }
}

/// One field of an object kind.
public struct FieldSpec: Hashable, Sendable {
    /// The field name (snake_case).
    public let name: String
    /// Its type.
    public let type: FieldType
    /// Where it lives by default.
    public let placement: Placement
    /// What it holds, for help and documentation.
    public let summary: String

    /// Creates a field spec.
    public init(_ name: String, _ type: FieldType, _ placement: Placement, _ summary: String) {
        self.name = name
        self.type = type
        self.placement = placement
        self.summary = summary
    }
}
