# Issue 18 (h18a): outbound webhooks and staff alerts: the endpoints, and the outbox of deliveries.

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import django_graceful_cancel.models.webhooks


class Migration(migrations.Migration):

    dependencies = [
        ('graceful_cancel', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('url', models.URLField(help_text='The address events are posted to (https).', max_length=500, validators=[django.core.validators.URLValidator(schemes=['http', 'https'])], verbose_name='URL')),
                ('description', models.CharField(blank=True, max_length=200, verbose_name='description')),
                ('event_types', models.JSONField(blank=True, default=list, help_text='Leave every box empty to receive every event type.', verbose_name='event types')),
                ('secret', models.CharField(default=django_graceful_cancel.models.webhooks.new_webhook_secret, help_text='Give it to the receiver to verify the signatures (Standard Webhooks).', max_length=100, validators=[django_graceful_cancel.models.webhooks.validate_webhook_secret], verbose_name='signing secret')),
                ('active', models.BooleanField(default=True, help_text='An inactive endpoint gets no new events; its pending ones wait.', verbose_name='active')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
            ],
            options={
                'verbose_name': 'webhook endpoint',
                'verbose_name_plural': 'webhook endpoints',
                'ordering': ['pk'],
            },
        ),
        migrations.CreateModel(
            name='OutboundDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channel', models.CharField(default='webhook', max_length=32, verbose_name='channel')),
                ('ordering_key', models.CharField(blank=True, max_length=64)),
                ('event_id', models.CharField(db_index=True, max_length=64, verbose_name='event id')),
                ('event_type', models.CharField(max_length=64, verbose_name='event type')),
                ('payload', models.JSONField(default=dict, verbose_name='payload')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('delivered', 'Delivered'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='pending', max_length=16, verbose_name='status')),
                ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                ('due_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='next attempt')),
                ('claimed_at', models.DateTimeField(blank=True, null=True)),
                ('delivered_at', models.DateTimeField(blank=True, null=True, verbose_name='delivered')),
                ('response_code', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='response code')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='outbound_deliveries', to='graceful_cancel.cancellationcase', verbose_name='case')),
                ('endpoint', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='graceful_cancel.webhookendpoint', verbose_name='endpoint')),
            ],
            options={
                'verbose_name': 'outbound delivery',
                'verbose_name_plural': 'outbound deliveries',
                'ordering': ['-pk'],
                'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['due_at'], name='gc_delivery_due_idx'), models.Index(condition=models.Q(('status', 'sending')), fields=['claimed_at'], name='gc_delivery_sending_idx'), models.Index(condition=models.Q(('status__in', ['pending', 'sending'])), fields=['endpoint', 'ordering_key', 'id'], name='gc_delivery_chain_idx'), models.Index(fields=['case', 'created_at'], name='gc_delivery_case_idx')],
            },
        ),
    ]
