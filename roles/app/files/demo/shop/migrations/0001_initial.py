from django.db import migrations, models


def add_greeting(apps, schema_editor):
    apps.get_model("shop", "Greeting").objects.create(text="hello from the database")


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Greeting",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("text", models.CharField(max_length=100)),
            ],
        ),
        migrations.RunPython(add_greeting, migrations.RunPython.noop),
    ]
