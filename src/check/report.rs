//! Printing a report: grouped text for people, JSON, SARIF 2.1.0.
