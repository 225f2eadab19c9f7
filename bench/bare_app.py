"""A bare Flask + WTForms page with the fields of the intake's first step: the baseline
that bench/page_ratio.py measures our step page against."""

from flask import Flask
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, StringField

app = Flask(__name__)
app.config["SECRET_KEY"] = "bare"  # noqa: S105 - a benchmark baseline


class AboutForm(FlaskForm):
    contact_name = StringField("Your full name")
    contact_email = StringField("Email address")
    company = StringField("Company or organisation")
    role = StringField("Your role")
    project_type = RadioField(
        "What kind of project is it?",
        choices=["branding", "website", "campaign", "content", "product_design", "other"],
    )
    budget_band = RadioField(
        "What budget do you have in mind?",
        choices=["under_10k", "10k_50k", "50k_150k", "over_150k"],
    )
    timeline_weeks = IntegerField("How many weeks should the engagement last?")
    decision_makers = IntegerField("How many people must sign off the work?")


PAGE = """<!doctype html><html lang="en"><head><title>About you</title></head><body>
<main><h1>About you and the project</h1><form method="post">{{ form.csrf_token }}
{% for field in form if field.name != 'csrf_token' %}
<div>{{ field.label }} {{ field() }}</div>{% endfor %}
<button>Save and continue</button></form></main></body></html>"""


TEMPLATE = app.jinja_env.from_string(PAGE)  # compiled once, as Flask does for files


@app.get("/form")
def form():
    return TEMPLATE.render(form=AboutForm())
