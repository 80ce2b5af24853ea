import EntenteCore

/// Escaping and number formatting shared by the renderers.
///
/// Names and titles come from partners, so every renderer treats them as hostile: escaped for its format, and stripped of control characters where a
/// human reads them.
enum Text {
    /// Replaces control characters (C0 except tab and newline, DEL, C1) and bidirectional overrides with
    /// U+FFFD, so a name cannot move a terminal's cursor or reorder the text around it.
    static func display(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let control = value < 0x20 || (0x7F...0x9F).contains(value)
            let bidi = (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
            if (control && value != 0x09 && value != 0x0A) || bidi {
                result.append("\u{FFFD}")
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Text for HTML and SVG (element content and double-quoted attributes alike).
    static func html(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in display(text) {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// A JSON string literal, quotes included.
    ///
    /// `<`, `>`, `&` and U+2028/2029 are escaped too, so the text
    /// stays inert if someone embeds the JSON in HTML or JavaScript.
    static func json(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}": result += unicodeEscape(scalar.value)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += unicodeEscape(scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// An RFC 4180 field: quoted (with inner quotes doubled) when it holds a comma, quote, CR or LF.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            return text
        }
        var quoted = "\""
        for character in text {
            quoted += character == "\"" ? "\"\"" : String(character)
        }
        return quoted + "\""
    }

    /// A name for a CSV text cell, defused against spreadsheet formulas.
    ///
    /// A leading `=`, `+`, `-`, `@`, tab or CR gets a `'` in front so spreadsheet programs do not run it as a
    /// formula (OWASP "CSV injection"). Numbers are never passed through this.
    static func csvText(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return text }
        return "'" + text
    }

    /// Characters a text occupies, for aligning terminal columns.
    static func width(_ text: String) -> Int { text.count }

    /// Cuts `text` to at most `limit` characters, ending with `…` when cut.
    static func truncated(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(max(1, limit - 1))) + "…"
    }
}

/// How figures print.
enum Figure {
    /// Exact, at least two decimals, no grouping: machine formats (JSON, CSV).
    static func exact(_ value: ExactDecimal) -> String { value.formatted(minimumFractionDigits: 2) }

    /// Rounded to two decimals, digits grouped: human formats (table, HTML).
    static func money(_ value: ExactDecimal) -> String {
        value.rounded(places: 2).formatted(minimumFractionDigits: 2, groupingSeparator: ",")
    }

    /// `money` with its currency.
    static func money(_ value: ExactDecimal, _ currency: CurrencyCode) -> String {
        "\(money(value)) \(currency.code)"
    }

    /// A two-decimal figure, or `n/a`.
    static func twoDecimals(_ value: ExactDecimal?) -> String {
        value.map { $0.formatted(minimumFractionDigits: 2) } ?? "n/a"
    }

    /// `66.67%`, or `n/a`.
    static func percent(_ ratio: WinRatio?) -> String {
        ratio.map { "\($0.percent.formatted(minimumFractionDigits: 2))%" } ?? "n/a"
    }

    /// `45.50`, or `n/a`.
    static func days(_ cycle: SalesCycle?) -> String {
        cycle.map { $0.averageDays.formatted(minimumFractionDigits: 2) } ?? "n/a"
    }

    /// A short axis label: `750`, `12.5k`, `1.2M`, `3B`.
    static func compact(_ value: ExactDecimal) -> String {
        let magnitude = value.significand.magnitude
        let units: [(exponent: Int, suffix: String)] = [(9, "B"), (6, "M"), (3, "k")]
        for unit in units {
            guard unit.exponent + Int(value.scale) <= 38,
                magnitude >= ExactDecimal.powerOfTen(unit.exponent + Int(value.scale)),
                let scaled = ExactDecimal.quotient(
                    value,
                    times: 1,
                    dividedBy: ExactDecimal.powerOfTen(unit.exponent),
                    places: 1
                )
            else { continue }
            return scaled.formatted() + unit.suffix
        }
        return value.rounded(places: 2).formatted()
    }

    /// `open 2 · won 1 · lost 1`.
    static func outcomes(_ counts: DealCounts) -> String {
        "open \(counts.open) · won \(counts.won) · lost \(counts.lost)"
    }

    /// What a report's currency handling is, in a sentence.
    static func currencyMode(_ report: Report) -> String {
        guard let conversion = report.conversion else {
            return "Amounts are per currency (no rate table): currencies are never added together."
        }
        var text = "Amounts converted into \(conversion.target.code)"
        if !conversion.rates.isEmpty {
            let rates = conversion.rates.map { "1 \($0.currency.code) = \($0.rate) \(conversion.target.code)" }
            text += " (" + rates.joined(separator: ", ") + ")"
        }
        text += "."
        if !conversion.unconverted.isEmpty {
            let codes = conversion.unconverted.map(\.code).joined(separator: ", ")
            text += " No rate for \(codes): those amounts stay in their own currency."
        }
        return text
    }

    /// The sentence explaining overlapping groups, or nil.
    static func overlapNote(_ report: Report) -> String? {
        guard report.groupsOverlap else { return nil }
        return "A deal with several partners appears under each of them, so group rows do not add up to the total."
    }

    /// The banner shown when private values were hidden.
    static let privateBanner =
        "Private values hidden: this report shows only values shared with partners; private amounts and fields "
        + "were removed before it was computed."

    /// A group's label for humans.
    static func groupLabel(_ key: String?, grouping: Grouping) -> String {
        if let key { return key }
        switch grouping {
        case .partner: return "(no partner)"
        case .stage: return "(no stage)"
        case .region: return "(no region)"
        case .solution: return "(no solution)"
        case .none, .period: return "(all deals)"
        }
    }

    /// A heading for the groups: `By partner`.
    static func groupingTitle(_ grouping: Grouping) -> String {
        switch grouping {
        case .none: "All deals"
        case .partner: "By partner"
        case .stage: "By stage"
        case .region: "By region"
        case .solution: "By solution"
        case .period(let period): "By \(period.rawValue) (close date, else creation date)"
        }
    }
}
