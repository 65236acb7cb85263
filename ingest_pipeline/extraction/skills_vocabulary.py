"""The technology skills the offline rules recognise, and finding them in free text.

``SKILLS`` lists each canonical name with the spellings that mean it; ``find_skills`` returns
the canonical names a text mentions, in order of first mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Skill:
    """A canonical skill name and the spellings that mean it in free text."""

    name: str
    aliases: tuple[str, ...] = ()
    case_sensitive: bool = False


SKILLS: tuple[Skill, ...] = (
    Skill("Java", ("Java", "J2EE", "Core Java")),
    Skill("JavaScript", ("JavaScript", "Java Script", "ES6")),
    Skill("TypeScript"),
    Skill("Python"),
    Skill("Go", ("Golang",)),
    Skill("Rust", case_sensitive=True),
    Skill("C#", ("C#", "C Sharp", "CSharp")),
    Skill("C++", ("C++", "CPP")),
    Skill(".NET", (".NET", "dotnet", ".NET Core")),
    Skill("ASP.NET"),
    Skill("Ruby"),
    Skill("Ruby on Rails", ("Ruby on Rails", "RoR")),
    Skill("PHP"),
    Skill("Scala"),
    Skill("Kotlin"),
    Skill("Swift", case_sensitive=True),
    Skill("Objective-C"),
    Skill("Perl"),
    Skill("SQL"),
    Skill("PL/SQL"),
    Skill("T-SQL", ("T-SQL", "TSQL")),
    Skill("MySQL"),
    Skill("PostgreSQL", ("PostgreSQL", "Postgres")),
    Skill("Oracle"),
    Skill("SQL Server", ("SQL Server", "MS SQL", "MSSQL")),
    Skill("MongoDB", ("MongoDB", "Mongo")),
    Skill("Cassandra"),
    Skill("Redis"),
    Skill("Elasticsearch", ("Elasticsearch", "Elastic Search")),
    Skill("DynamoDB"),
    Skill("Snowflake"),
    Skill("Databricks"),
    Skill("Spark", ("Spark", "Apache Spark")),
    Skill("PySpark"),
    Skill("Hadoop"),
    Skill("Hive"),
    Skill("Kafka", ("Kafka", "Apache Kafka")),
    Skill("Airflow", ("Airflow", "Apache Airflow")),
    Skill("dbt"),
    Skill("ETL"),
    Skill("Tableau"),
    Skill("Power BI", ("Power BI", "PowerBI")),
    Skill("Informatica"),
    Skill("AWS", ("AWS", "Amazon Web Services")),
    Skill("Azure", ("Azure", "Microsoft Azure")),
    Skill("GCP", ("GCP", "Google Cloud", "Google Cloud Platform")),
    Skill("Docker"),
    Skill("Kubernetes", ("Kubernetes", "K8s")),
    Skill("Terraform"),
    Skill("Ansible"),
    Skill("Jenkins"),
    Skill("Git"),
    Skill("CI/CD", ("CI/CD", "CICD")),
    Skill("Linux"),
    Skill("Unix"),
    Skill("Shell Scripting", ("Shell Scripting", "Bash")),
    Skill("React", ("React", "React.js", "ReactJS")),
    Skill("React Native"),
    Skill("Angular", ("Angular", "AngularJS")),
    Skill("Vue.js", ("Vue", "Vue.js", "VueJS")),
    Skill("Node.js", ("Node.js", "NodeJS")),
    Skill("Django"),
    Skill("Flask"),
    Skill("FastAPI"),
    Skill("Spring Boot", ("Spring Boot", "SpringBoot")),
    Skill("Spring", case_sensitive=True),
    Skill("Hibernate"),
    Skill("Microservices", ("Microservices", "Micro Services", "Microservice")),
    Skill("REST", ("REST", "RESTful", "REST API", "REST APIs"), case_sensitive=True),
    Skill("GraphQL"),
    Skill("HTML", ("HTML", "HTML5")),
    Skill("CSS", ("CSS", "CSS3")),
    Skill("jQuery"),
    Skill("Selenium"),
    Skill("Cypress"),
    Skill("JUnit"),
    Skill("Machine Learning"),
    Skill("Deep Learning"),
    Skill("TensorFlow"),
    Skill("PyTorch"),
    Skill("Pandas"),
    Skill("NumPy"),
    Skill("scikit-learn", ("scikit-learn", "sklearn")),
    Skill("NLP"),
    Skill("Salesforce"),
    Skill("SAP", case_sensitive=True),
    Skill("ServiceNow"),
    Skill("Workday"),
    Skill("Agile"),
    Skill("Scrum"),
    Skill("JIRA"),
    Skill("Splunk"),
    Skill("Maven"),
    Skill("RabbitMQ"),
    Skill("iOS", case_sensitive=True),
    Skill("Android"),
    Skill("Flutter"),
    Skill("COBOL"),
)

# Not preceded by a word character; not followed by a letter or a symbol that would make it
# a different token ("Java" in "JavaScript", "C" in "C#"); digits may follow ("HTML5").
_BEFORE = r"(?<![A-Za-z0-9_])"
_AFTER = r"(?![A-Za-z_+#])"


def _skill_pattern(skill: Skill) -> re.Pattern[str]:
    aliases = skill.aliases or (skill.name,)
    body = "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
    flags = 0 if skill.case_sensitive else re.IGNORECASE
    return re.compile(f"{_BEFORE}(?:{body}){_AFTER}", flags)


_SKILL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (skill.name, _skill_pattern(skill)) for skill in SKILLS
)


def find_skills(text: str) -> list[str]:
    """Canonical skill names mentioned in ``text``, in order of first mention.

    Where spellings overlap the longest one wins, so "Spring Boot" is not also "Spring"
    and "React Native" is not also "React".
    """
    spans: list[tuple[int, int, str]] = []
    for name, pattern in _SKILL_PATTERNS:
        spans.extend((m.start(), -(m.end() - m.start()), name) for m in pattern.finditer(text))
    spans.sort()
    found: list[str] = []
    covered_until = -1
    for start, neg_len, name in spans:
        if start < covered_until:
            continue
        covered_until = start - neg_len
        if name not in found:
            found.append(name)
    return found
