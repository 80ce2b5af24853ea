import Entente

/// A small JSON value with deterministic (sorted-key) rendering, for `--json` output.
indirect enum JSON {
    case null
    case bool(Bool)
    case number(Int64)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    /// Exact numbers that JSON cannot hold without loss (decimals, money) are strings.
    init(_ value: Value) {
        switch value {
        case .null: self = .null
        case .string(let text), .enumeration(let text): self = .string(text)
        case .integer(let number): self = .number(number)
        case .boolean(let flag): self = .bool(flag)
        case .decimal(let number): self = .string(number.description)
        case .money(let money):
            self = .object([
                ("amount", .string(money.amount.formatted(minimumFractionDigits: 2))),
                ("currency", .string(money.currency.code)),
            ])
        case .date(let date): self = .string(date.description)
        case .timestamp: self = .string(value.description)
        case .reference(let object): self = .string(object.hex)
        }
    }

    /// A field as JSON: its value, or for a set field the array of its elements.
    init(_ field: FieldView) {
        if let elements = field.elements { self = .array(elements.map(JSON.string)) } else { self.init(field.value) }
    }

    func rendered(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        switch self {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number): return String(number)
        case .string(let text): return JSON.quote(text)
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.rendered(indent: indent + 1) }.joined(separator: ",\n") + "\n\(close)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{\n"
                + members.map { pad + JSON.quote($0.0) + ": " + $0.1.rendered(indent: indent + 1) }.joined(
                    separator: ",\n"
                )
                + "\n\(close)}"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
